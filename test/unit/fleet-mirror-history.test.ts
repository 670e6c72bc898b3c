// An attached dashboard starts with the controller's recent readings (the history event just
// before WatchFleet's snapshot), so its sparklines and charts are full from the first frame.
import { expect, it } from 'vitest';
import { FleetMirror } from '../../src/cli/fleet-mirror.js';
import { historyOf, historyPoints } from '../../src/core/series-history.js';
import { SERIES_CAPACITY, ServerSeries } from '../../src/core/series.js';
import type { WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { HOSTS, makeSample, makeServer } from '../tui/fleet-fixture.js';

const NOW = 1_700_000_000_000;
const at = (t: number) => NOW + t * 1000;

/** What the controller's registry holds after `n` samples of a host (its T4 with unknown power and memory). */
function controllerSeries(spec: typeof HOSTS.a100 | typeof HOSTS.t4, n: number): ServerSeries {
  const series = new ServerSeries();
  for (let t = 0; t < n; t++) series.record(makeSample(spec, t, at(t)));
  return series;
}

const rounded = (xs: number[]) => xs.map((x) => (Number.isNaN(x) ? 'NaN' : Math.round(x * 100) / 100));

it('fills each server’s rings from the history, GPUs and unknown readings included, before its latest sample', () => {
  const source = { a100: controllerSeries(HOSTS.a100, 300), t4: controllerSeries(HOSTS.t4, 40) };
  const points = historyPoints([source.a100, source.t4]);
  expect(points).toBe(SERIES_CAPACITY);
  const mirror = new FleetMirror();
  const history: WatchFleetResponse = {
    event: {
      $case: 'history',
      value: { servers: [historyOf(HOSTS.a100.id, source.a100, points), historyOf(HOSTS.t4.id, source.t4, points)] },
    },
  };
  expect(mirror.apply(history)).toEqual([]);
  const a100 = { ...makeServer(HOSTS.a100, NOW), latest: makeSample(HOSTS.a100, 299, at(299)) };
  const t4 = { ...makeServer(HOSTS.t4, NOW), latest: makeSample(HOSTS.t4, 39, at(39)) };
  mirror.apply({ event: { $case: 'snapshot', value: { servers: [a100, t4], nextPageToken: '' } } });

  const got = mirror.get(HOSTS.a100.id)!.series;
  expect(got.cpu.length).toBe(SERIES_CAPACITY);
  expect(got.timestamps.values()).toEqual(source.a100.timestamps.values());
  expect(rounded(got.cpu.values())).toEqual(rounded(source.a100.cpu.values()));
  expect(rounded(got.memory.values())).toEqual(rounded(source.a100.memory.values()));
  expect(got.gpus.map((g) => g.uuid)).toEqual(source.a100.gpus.map((g) => g.uuid));
  expect(rounded(got.gpus[3]!.utilization.values())).toEqual(rounded(source.a100.gpus[3]!.utilization.values()));
  const t4Got = mirror.get(HOSTS.t4.id)!.series;
  expect(t4Got.cpu.length).toBe(40);
  expect(rounded(t4Got.gpus[0]!.power.values())).toEqual(rounded(source.t4.gpus[0]!.power.values()));
  expect(t4Got.gpus[0]!.power.last()).toBeUndefined();
});

it('after a reconnect adds only what it had not seen, and a large fleet gets fewer points per server', () => {
  const mirror = new FleetMirror();
  const server = makeServer(HOSTS.a100, NOW);
  mirror.apply({ event: { $case: 'snapshot', value: { servers: [server], nextPageToken: '' } } });
  for (let t = 0; t < 10; t++)
    mirror.apply({
      event: {
        $case: 'sample',
        value: { serverId: HOSTS.a100.id, sample: makeSample(HOSTS.a100, t, at(t)), earlier: [] },
      },
    });
  // The stream dropped after t=9; the controller went on to t=19.
  const source = controllerSeries(HOSTS.a100, 20);
  mirror.apply({
    event: { $case: 'history', value: { servers: [historyOf(HOSTS.a100.id, source, SERIES_CAPACITY)] } },
  });
  mirror.apply({
    event: {
      $case: 'snapshot',
      value: { servers: [{ ...server, latest: makeSample(HOSTS.a100, 19, at(19)) }], nextPageToken: '' },
    },
  });
  expect(mirror.get(HOSTS.a100.id)!.series.timestamps.values()).toEqual(Array.from({ length: 20 }, (_, t) => at(t)));

  const fleet = Array.from({ length: 1000 }, () => controllerSeries(HOSTS.a100, 1));
  expect(historyPoints(fleet)).toBe(71); // 1000 hosts × 4 GPUs: 21 readings a point, ~1.5 M in all
});
