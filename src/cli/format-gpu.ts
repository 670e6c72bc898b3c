// `yard gpu`: who holds GPU memory, per host and GPU (each process's user and workload) and per
// OS user across the host's GPUs.
import { bytesText } from '../core/format/bytes.js';
import { agoText } from '../core/format/time.js';
import { isSilent } from '../core/freshness.js';
import { gpuTrouble } from '../core/gpu-status.js';
import { gpuProcessRows, gpuUsers } from '../core/gpu-users.js';
import { printable } from '../core/printable.js';
import { stateName, type Server } from '../core/types.js';
import { table } from './format.js';

const orNull = <T>(v: T | undefined | ''): T | null => (v === undefined || v === '' ? null : v);
const MIB = 1024 * 1024;

/** Whether a host has GPUs to report on: from its readings, else from what its agent declared. */
export function hasGpus(s: Server): boolean {
  return (s.latest?.gpus.length ?? 0) > 0 || (s.capabilities?.gpus.length ?? 0) > 0;
}

/** The readings to show: none from a silent host (they would pass for now). */
function current(s: Server) {
  return isSilent(s) ? [] : (s.latest?.gpus ?? []);
}

/** The stable JSON shape of `yard gpu --json`. Unknown is null, never 0 or "". */
export function gpuUsersJson(s: Server) {
  const gpus = current(s);
  return {
    server: s.name,
    id: s.id,
    state: stateName(s.state),
    // False when the host is silent or never reported: then no process is listed.
    fresh: !isSilent(s) && s.latest !== undefined,
    gpus: gpus.map((g) => ({
      index: g.index,
      name: g.name,
      uuid: g.uuid,
      memoryUsedMiB: orNull(g.memoryUsedMib),
      memoryTotalMiB: orNull(g.memoryTotalMib),
      processes: gpuProcessRows([g]).map((p) => ({
        pid: p.pid,
        user: orNull(p.user),
        workload: orNull(p.workload),
        usedMemoryMiB: orNull(p.usedMemoryMib),
        command: p.name,
      })),
    })),
    users: gpuUsers(gpus).map((u) => ({
      user: orNull(u.user),
      usedMemoryMiB: orNull(u.usedMemoryMib),
      processes: u.processes,
      gpus: u.gpus,
      workloads: u.workloads,
    })),
  };
}

function memory(mib: number | undefined): string {
  return bytesText(mib === undefined ? undefined : mib * MIB, '?');
}

/** Why a host's processes cannot be listed, or undefined when they can. */
function unknownWhy(s: Server, now: number): string | undefined {
  if (isSilent(s))
    return `${stateName(s.state)}, last seen ${s.lastSeenMs ? agoText(now - s.lastSeenMs) : 'never'}: its GPU processes are unknown`;
  const trouble = gpuTrouble(s.latest);
  if (trouble) return `nvidia-smi ${trouble.state} (${trouble.message || 'no message'}): its GPU processes are unknown`;
  if (!s.latest?.gpus.length) return 'no GPU reading yet';
  return undefined;
}

/** One host: its processes by GPU, then its users. */
function hostText(s: Server, now: number): string {
  const gpus = current(s);
  const count = Math.max(gpus.length, s.capabilities?.gpus.length ?? 0);
  if (count === 0) return `${printable(s.name)}: no GPUs\n`;
  const head = printable(`${s.name} (${count} GPU${count === 1 ? '' : 's'})`);
  const why = unknownWhy(s, now);
  if (why) return `${head}: ${printable(why)}\n`;
  const rows = gpuProcessRows(gpus);
  if (rows.length === 0) return `${head}: no process holds GPU memory\n`;
  const processes = table([
    ['GPU', 'PID', 'USER', 'WORKLOAD', 'GPU MEM', 'COMMAND'],
    ...rows.map((p) => [
      String(p.gpu),
      String(p.pid),
      p.user || '?',
      p.workload || '-',
      memory(p.usedMemoryMib),
      p.name,
    ]),
  ]);
  const users = table([
    ['USER', 'GPU MEM', 'PROCS', 'GPUS', 'WORKLOADS'],
    ...gpuUsers(gpus).map((u) => [
      u.user || '?',
      memory(u.usedMemoryMib),
      String(u.processes),
      u.gpus.join(','),
      u.workloads.join(',') || '-',
    ]),
  ]);
  const indent = (text: string) => text.replace(/^(?=.)/gm, '  ');
  return `${head}\n${indent(processes)}\n${indent(users)}`;
}

/** Each host, one block: its processes by GPU, then its users. */
export function gpuUsersText(servers: Server[], now = Date.now()): string {
  if (servers.length === 0) return 'no host with GPUs: `yard servers` lists the fleet\n';
  return servers.map((s) => hostText(s, now)).join('\n');
}
