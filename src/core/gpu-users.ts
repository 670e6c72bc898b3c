// Who holds a host's GPU memory, from one sample's GPU processes: one row per process (nvitop's
// process panel) and one per OS user across the host's GPUs (all-smi's Users tab). No I/O.
import type { GpuProcess, GpuSample } from './types.js';

/** One process on one GPU. */
export interface GpuProcessRow extends GpuProcess {
  gpu: number;
}

/** One OS user's share of a host's GPUs. */
export interface GpuUser {
  /** '' when the agent could not tell whose processes these are. */
  user: string;
  processes: number;
  /** Unknown only when no process of the user had its memory reported. */
  usedMemoryMib: number | undefined;
  /** The GPU indexes its processes are on, ascending. */
  gpus: number[];
  /** The workloads among its processes, by name. */
  workloads: string[];
}

/** Biggest first: memory is what the panel is read for. */
function byMemory(a: { usedMemoryMib?: number }, b: { usedMemoryMib?: number }): number {
  return (b.usedMemoryMib ?? -1) - (a.usedMemoryMib ?? -1);
}

/** Every process on the host's GPUs, by GPU, then the biggest first. */
export function gpuProcessRows(gpus: readonly GpuSample[]): GpuProcessRow[] {
  return gpus
    .flatMap((g) => [...g.processes].sort(byMemory).map((p) => ({ ...p, gpu: g.index })))
    .sort((a, b) => a.gpu - b.gpu);
}

/** The host's GPU memory by OS user, the biggest holder first. */
export function gpuUsers(gpus: readonly GpuSample[]): GpuUser[] {
  const users = new Map<string, GpuUser>();
  for (const p of gpuProcessRows(gpus)) {
    const u = users.get(p.user) ?? { user: p.user, processes: 0, usedMemoryMib: undefined, gpus: [], workloads: [] };
    u.processes++;
    if (p.usedMemoryMib !== undefined) u.usedMemoryMib = (u.usedMemoryMib ?? 0) + p.usedMemoryMib;
    if (!u.gpus.includes(p.gpu)) u.gpus.push(p.gpu);
    if (p.workload && !u.workloads.includes(p.workload)) u.workloads.push(p.workload);
    users.set(p.user, u);
  }
  return [...users.values()]
    .map((u) => ({ ...u, workloads: u.workloads.sort() }))
    .sort((a, b) => byMemory(a, b) || a.user.localeCompare(b.user));
}

/** GPU memory held by each workload's processes (its own and its children's), by workload name. */
export function gpuMemoryByWorkload(gpus: readonly GpuSample[]): Map<string, number> {
  const held = new Map<string, number>();
  for (const g of gpus)
    for (const p of g.processes)
      if (p.workload) held.set(p.workload, (held.get(p.workload) ?? 0) + (p.usedMemoryMib ?? 0));
  return held;
}
