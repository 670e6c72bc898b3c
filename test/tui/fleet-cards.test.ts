// The fleet's cards and what an attached dashboard knows when its controller goes away: the
// GPUs by model, a host whose GPU tooling fails said so on its card, and no host "online" on
// the word of a stream that is gone.
import { afterEach, describe, expect, it } from 'vitest';
import { FleetMirror } from '../../src/cli/fleet-mirror.js';
import { ServerState, stateName, type Server } from '../../src/core/types.js';
import type { WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { feed, HOSTS, makeSample, makeServer, sampleFleet, type HostSpec } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const snapshot = (servers: Server[]): WatchFleetResponse => ({
  event: { $case: 'snapshot', value: { servers, nextPageToken: '' } },
});

describe('fleet cards', () => {
  it("name the GPUs by model, and say when a host's nvidia-smi fails and for how long", () => {
    const now = Date.now();
    const fleet = sampleFleet(now);
    const broken: HostSpec = { id: 'srv-broken', name: 'gpu-broken-09', cores: 32 };
    fleet.add(makeServer({ ...broken, state: ServerState.SERVER_STATE_DEGRADED }, now));
    feed(fleet, broken, 5, now - 1000);
    fleet.record(broken.id, {
      ...makeSample(broken, 5, now),
      gpuStatus: {
        state: 'stuck',
        sinceMs: now - 70_000,
        message: 'nvidia-smi (pid 4242) did not answer `--query-gpu=index` within 10s',
      },
    });
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    const text = h.text();
    expect(text).toContain('GPU 4× A100-SXM4-80GB');
    expect(text).toContain('GPU 1× Tesla T4');
    expect(text).toMatch(/◐ degraded[\s\S]*GPU ✖ nvidia-smi stuck for 1m/);
    expect(text).toMatch(/│ did not answer `--query-gpu=index` within 10s +│/);
  });

  it('mark a scraped host on its card and in the server view, with where it is polled', async () => {
    const now = Date.now();
    const fleet = sampleFleet(now);
    const edge: HostSpec = { id: 'scraped:edge-07', name: 'edge-07', cores: 8 };
    fleet.add({
      ...makeServer({ ...edge, state: ServerState.SERVER_STATE_DEGRADED }, now),
      labels: {},
      source: 'scraped',
      scrapeUrl: 'http://10.0.0.7:9100/metrics',
    });
    fleet.record(edge.id, {
      ...makeSample(edge, 5, now),
      gpuStatus: {
        state: 'failing',
        sinceMs: now - 20_000,
        message: 'http://10.0.0.7:9400/metrics: HTTP 404 Not Found',
      },
    });
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    expect(h.text()).toMatch(/scraped · 10\.0\.0\.7:9100/);
    expect(h.text()).toMatch(/GPU ✖ GPU exporter failing for 20s/);
    await h.press(':', ...'server edge-07', KEY.enter);
    expect(h.text()).toMatch(/scraped +http:\/\/10\.0\.0\.7:9100\/metri/);
    expect(h.text()).toMatch(/gpus +✖ GPU exporter failing/);
  });

  it('the server view says what fails in nvidia-smi, since when; a healthy host lists its GPU models', async () => {
    const now = Date.now();
    const fleet = sampleFleet(now);
    const broken: HostSpec = { id: 'srv-broken', name: 'gpu-broken-09', cores: 32 };
    fleet.add(makeServer({ ...broken, state: ServerState.SERVER_STATE_DEGRADED }, now));
    fleet.record(broken.id, {
      ...makeSample(broken, 5, now),
      gpuStatus: {
        state: 'failing',
        sinceMs: now - 30_000,
        message:
          "nvidia-smi (/usr/bin/nvidia-smi) failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
      },
    });
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    await h.press(':', ...'server gpu-broken-09', KEY.enter);
    expect(h.text()).toMatch(
      /gpus +✖ nvidia-smi failing[^\n]*\n[^\n]*since +\d\d:\d\d:\d\d \(3\ds ago\)[^\n]*\n[^\n]*why +couldn't communicate/,
    );
    await h.press(':', ...'server gpu-a100-01', KEY.enter);
    expect(h.text()).toMatch(/gpus +4× A100-SXM4-80GB/);
  });

  it('an attached dashboard that loses its stream knows no host online: unknown, last seen, until the next snapshot', () => {
    const now = Date.now();
    const m = new FleetMirror();
    const servers = [makeServer(HOSTS.a100, now), makeServer(HOSTS.t4, now)];
    m.apply(snapshot(servers.map((s) => ({ ...s, latest: makeSample(HOSTS.a100, 0, now) }))));
    expect(m.list().map((fs) => stateName(fs.server.state))).toEqual(['online', 'online']);
    expect(m.loseTouch()).toHaveLength(2);
    expect(m.list().map((fs) => stateName(fs.server.state))).toEqual(['unknown', 'unknown']);
    // The last sample stays, to be shown aged.
    expect(m.list()[0]!.server.latest?.timestampMs).toBe(now);
    expect(m.loseTouch()).toEqual([]);
    m.apply(snapshot(servers));
    expect(m.list().map((fs) => stateName(fs.server.state))).toEqual(['online', 'online']);
  });
});
