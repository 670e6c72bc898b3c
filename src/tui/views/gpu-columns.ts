import { bytesShort } from '../../core/format/bytes.js';
import type { GpuProcessRow, GpuUser } from '../../core/gpu-users.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';

const MIB = 1024 * 1024;

function gpuMemory(mib: number | undefined, unknown: string): string {
  return bytesShort(mib === undefined ? undefined : mib * MIB, unknown);
}

/** nvitop's process panel: who holds memory on which GPU; WORKLOAD `-` is a process not ours. */
export function gpuProcessColumns(look: Look): Column<GpuProcessRow>[] {
  const u = look.glyphs.unknown;
  return [
    { title: 'GPU', width: 3, align: 'right', priority: 1, cell: (p) => String(p.gpu) },
    { title: 'PID', width: 6, align: 'right', priority: 3, cell: (p) => String(p.pid) },
    { title: 'USER', width: 6, flex: 1, priority: 2, cell: (p) => p.user || u },
    { title: 'WORKLOAD', width: 8, flex: 1, priority: 2, cell: (p) => p.workload || '-' },
    { title: 'GPU MEM', width: 7, align: 'right', priority: 1, cell: (p) => gpuMemory(p.usedMemoryMib, u) },
    { title: 'COMMAND', width: 8, flex: 4, priority: 4, cell: (p) => p.name },
  ];
}

/** all-smi's Users tab, for one host: GPU memory by OS user across its GPUs. */
export function gpuUserColumns(look: Look): Column<GpuUser>[] {
  const u = look.glyphs.unknown;
  return [
    { title: 'USER', width: 8, flex: 1, priority: 1, cell: (r) => r.user || u },
    { title: 'GPU MEM', width: 7, align: 'right', priority: 1, cell: (r) => gpuMemory(r.usedMemoryMib, u) },
    { title: 'PROCS', width: 5, align: 'right', priority: 2, cell: (r) => String(r.processes) },
    { title: 'GPUS', width: 5, priority: 3, cell: (r) => r.gpus.join(',') },
    { title: 'WORKLOADS', width: 10, flex: 2, priority: 4, cell: (r) => r.workloads.join(',') || '-' },
  ];
}
