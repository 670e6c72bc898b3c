import type { ServerHistory } from '../gen/switchyard/v1/control.js';
import { SERIES_CAPACITY, type ServerSeries } from './series.js';
import type { HostSample } from './types.js';

/**
 * Readings a fleet's history may hold in one snapshot, all servers together (about 6 MB):
 * a large fleet sends fewer points per server rather than a message too big to send.
 */
const SNAPSHOT_VALUES = 1_500_000;

/** How many recent points of each server a snapshot of these servers' series carries. */
export function historyPoints(fleet: readonly ServerSeries[]): number {
  const perPoint = fleet.reduce((n, s) => n + 5 + 4 * s.gpus.length, 0);
  return Math.min(SERIES_CAPACITY, Math.floor(SNAPSHOT_VALUES / Math.max(1, perPoint)));
}

/** A server's newest `points` readings, oldest first, as WatchFleet's snapshot carries them. */
export function historyOf(serverId: string, series: ServerSeries, points: number): ServerHistory {
  return {
    serverId,
    timestampsMs: series.timestamps.values(points),
    cpuPct: series.cpu.values(points),
    memoryPct: series.memory.values(points),
    netRxBytesPerSec: series.netRx.values(points),
    netTxBytesPerSec: series.netTx.values(points),
    gpus: series.gpus.map((g) => ({
      key: g.uuid,
      name: g.name,
      utilizationPct: g.utilization.values(points),
      memoryPct: g.memory.values(points),
      temperatureC: g.temperature.values(points),
      powerW: g.power.values(points),
    })),
  };
}

/** Appends the readings of `history` newer than the newest `series` holds (all of them to an empty one). */
export function fillFromHistory(series: ServerSeries, history: ServerHistory): void {
  const newest = series.timestamps.last() ?? -Infinity;
  history.timestampsMs.forEach((t, i) => {
    if (t > newest) series.record(sampleAt(history, i));
  });
}

/** Point `i` of a history as the sample it came from (percentages as used of 100; NaN stays unknown). */
function sampleAt(h: ServerHistory, i: number): HostSample {
  return {
    timestampMs: h.timestampsMs[i]!,
    cpuPct: h.cpuPct[i] ?? Number.NaN,
    cpuPerCorePct: [],
    load1: 0,
    load5: 0,
    load15: 0,
    memoryTotalBytes: 100,
    memoryUsedBytes: h.memoryPct[i] ?? Number.NaN,
    swapTotalBytes: 0,
    swapUsedBytes: 0,
    disks: [],
    nets: [],
    netRxBytesPerSec: h.netRxBytesPerSec[i] ?? Number.NaN,
    netTxBytesPerSec: h.netTxBytesPerSec[i] ?? Number.NaN,
    gpus: h.gpus.map((g, index) => ({
      index,
      uuid: g.key,
      name: g.name,
      utilizationPct: g.utilizationPct[i],
      memoryUsedMib: g.memoryPct[i],
      memoryTotalMib: 100,
      temperatureC: g.temperatureC[i],
      powerW: g.powerW[i],
      processes: [],
    })),
  };
}
