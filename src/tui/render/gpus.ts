import type { FleetServer } from '../../core/fleet.js';
import type { GpuSeries } from '../../core/series.js';
import type { GpuSample } from '../../core/types.js';

/** One GPU as the views draw it: the newest reading (if any) and its history. */
export interface GpuView {
  index: number;
  name: string;
  sample: GpuSample | undefined;
  history: GpuSeries | undefined;
}

function historyOf(fs: FleetServer, uuid: string, index: number): GpuSeries | undefined {
  const key = uuid || `#${index}`;
  return fs.series.gpus.find((g) => g.uuid === key);
}

/** The server's GPUs from its newest sample, else from what the agent declared at start. */
export function gpusOf(fs: FleetServer): GpuView[] {
  const samples = fs.server.latest?.gpus ?? [];
  if (samples.length > 0) {
    return samples.map((g) => ({ index: g.index, name: g.name, sample: g, history: historyOf(fs, g.uuid, g.index) }));
  }
  return (fs.server.capabilities?.gpus ?? []).map((g) => ({
    index: g.index,
    name: g.name,
    sample: undefined,
    history: historyOf(fs, g.uuid, g.index),
  }));
}

/** How many GPU lines a server needs, without building them (called for every server). */
export function gpuCount(fs: FleetServer): number {
  return fs.server.latest?.gpus.length || fs.server.capabilities?.gpus.length || 0;
}
