import { RingBuffer } from './ring.js';
import type { HostSample } from './types.js';

/** Enough points for the widest chart we draw (a 200-column server view). */
export const SERIES_CAPACITY = 240;

export interface GpuSeries {
  uuid: string;
  name: string;
  utilization: RingBuffer;
  /** Memory used, percent of total. */
  memory: RingBuffer;
  temperature: RingBuffer;
  power: RingBuffer;
}

/** The recent history of one server, in fixed-size rings: bounded whatever the uptime. */
export interface ServerSeries {
  timestamps: RingBuffer;
  cpu: RingBuffer;
  /** Memory used, percent of total. */
  memory: RingBuffer;
  netRx: RingBuffer;
  netTx: RingBuffer;
  gpus: GpuSeries[];
}

export function newServerSeries(capacity = SERIES_CAPACITY): ServerSeries {
  return {
    timestamps: new RingBuffer(capacity, 'f64'),
    cpu: new RingBuffer(capacity),
    memory: new RingBuffer(capacity),
    netRx: new RingBuffer(capacity),
    netTx: new RingBuffer(capacity),
    gpus: [],
  };
}

function percent(used: number | undefined, total: number | undefined): number | undefined {
  return used === undefined || total === undefined || total <= 0 ? undefined : (used / total) * 100;
}

/** Appends one sample to a server's rings. GPUs are matched by UUID (index as fallback). */
export function recordSample(series: ServerSeries, sample: HostSample): void {
  const capacity = series.cpu.capacity;
  series.timestamps.push(sample.timestampMs);
  series.cpu.push(sample.cpuPct);
  series.memory.push(percent(sample.memoryUsedBytes, sample.memoryTotalBytes));
  series.netRx.push(sample.netRxBytesPerSec);
  series.netTx.push(sample.netTxBytesPerSec);
  for (const gpu of sample.gpus) {
    const key = gpu.uuid || `#${gpu.index}`;
    let gs = series.gpus.find((g) => g.uuid === key);
    if (!gs) {
      // A GPU that appears late starts with as many unknowns as the host has history.
      gs = {
        uuid: key,
        name: gpu.name,
        utilization: new RingBuffer(capacity),
        memory: new RingBuffer(capacity),
        temperature: new RingBuffer(capacity),
        power: new RingBuffer(capacity),
      };
      for (let i = 1; i < series.cpu.length; i++) {
        gs.utilization.push(undefined);
        gs.memory.push(undefined);
        gs.temperature.push(undefined);
        gs.power.push(undefined);
      }
      series.gpus.push(gs);
    }
    gs.utilization.push(gpu.utilizationPct);
    gs.memory.push(percent(gpu.memoryUsedMib, gpu.memoryTotalMib));
    gs.temperature.push(gpu.temperatureC);
    gs.power.push(gpu.powerW);
  }
}
