// Numbers are never cut short by fitting: at every width the views draw, a reading shows with
// all its digits or not at all. The GPUs are the recorded nvidia-smi output the fake replays
// (test/fixtures/nvidia-smi): one H100 under load at 632 W of 700 W, and eight H100s under load.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseGpuCsv } from '../../src/agent/metrics/nvidia-smi.js';
import { FixtureFleet, makeSample, makeServer, type HostSpec } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

const recorded = (name: string) => parseGpuCsv(readFileSync(fileURLToPath(new URL(`../fixtures/nvidia-smi/${name}.csv`, import.meta.url)), 'utf8'));

let h: Headless | undefined;
afterEach(() => h?.close());

/** One host whose GPUs read exactly what `fixture` recorded, with a minute of history. */
function recordedHost(fixture: string): FixtureFleet {
  const gpus = recorded(fixture);
  const spec: HostSpec = { id: 'srv-h100', name: 'h100-box', cores: 16, gpus: gpus.map((g) => ({ name: g.name, memoryMib: g.memoryTotalMib ?? 0 })) };
  const fleet = new FixtureFleet();
  const now = Date.now();
  fleet.add(makeServer(spec, now));
  for (let t = 0; t < 60; t++) {
    const uuids = gpus.map((g, i) => ({ ...g, uuid: g.uuid || `GPU-${spec.id}-${i}` }));
    fleet.record(spec.id, { ...makeSample(spec, t, now - (59 - t) * 1000), gpus: uuids });
  }
  return fleet;
}

async function serverView(fleet: FixtureFleet, cols: number): Promise<string> {
  h?.close();
  h = openHeadless(fleet, { cols, rows: 48 });
  await h.press(KEY.enter);
  return h.text();
}

describe('numbers are never cut short', () => {
  it('the GPU box shows power and temperature with every digit, or not at all, at 80 to 160 columns', async () => {
    const fleet = recordedHost('h100-load');
    for (const cols of [80, 100, 120, 160]) {
      const screen = await serverView(fleet, cols);
      const line = screen.split('\n').find((l) => /util 100%/.test(l)) ?? '';
      const legend = line.slice(line.indexOf('util'));
      expect(legend, `${cols} columns`).not.toBe('');
      // Every figure on the line is a whole recorded one: util 100%, mem 24% (19818 of 81559
      // MiB), 59°C, 631.95 W of 700 W.
      for (const [n] of legend.matchAll(/\d+/g)) expect(['100', '24', '59', '632', '700'], `${cols}: ${legend}`).toContain(n);
      expect(legend, `${cols}`).toMatch(/632W/);
    }
  });

  it('the 8×H100 recording: each GPU line shows its whole utilization and memory on the fleet and the server view', async () => {
    const fleet = recordedHost('h100-x8-load');
    const gpus = recorded('h100-x8-load');
    const pair = (g: (typeof gpus)[number]) => `${(g.memoryUsedMib! / 1024).toFixed(1)}/${(g.memoryTotalMib! / 1024).toFixed(1)} GiB`;
    for (const cols of [80, 100, 120, 160]) {
      h?.close();
      h = openHeadless(fleet, { cols, rows: 40 });
      const card = h.text();
      for (const g of gpus) {
        const line = card.split('\n').find((l) => l.includes(`G${g.index} `)) ?? '';
        expect(line, `${cols}: G${g.index}`).toContain(` ${g.utilizationPct}% `);
        expect(line, `${cols}: G${g.index}`).toContain(pair(g));
      }
      // The server view: every figure in a GPU box's legend is a whole one.
      const screen = await serverView(fleet, cols);
      for (const line of screen.split('\n').filter((l) => l.includes('util '))) {
        const legend = line.slice(line.indexOf('util '));
        expect(legend, `${cols}: ${legend}`).toMatch(/^util (98|99|100)% +mem (24|25|26|94|95|96|97)%/);
      }
    }
  });
});
