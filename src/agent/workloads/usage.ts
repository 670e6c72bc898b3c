// CPU and memory of a workload's process, read from /proc (no child processes: this runs
// every couple of seconds for every workload). Linux only; elsewhere usage stays unknown.
import { readFile } from 'node:fs/promises';

export interface Usage {
  cpuPct?: number;
  rssBytes?: number;
}

// USER_HZ: the unit of /proc/<pid>/stat times. 100 on every Linux ABI Node runs on.
const CLOCK_TICKS_PER_S = 100;

interface CpuReading {
  ticks: number;
  atMs: number;
}

/** Keeps the last CPU reading per pid, so each read() gives the CPU use since the one before. */
export class UsageReader {
  private readonly last = new Map<number, CpuReading>();

  async read(pid: number): Promise<Usage> {
    const [stat, status] = await Promise.all([readProc(pid, 'stat'), readProc(pid, 'status')]);
    return { cpuPct: this.cpuPct(pid, stat), rssBytes: rssBytes(status) };
  }

  /** Drops the readings of pids not in `live` (their processes have ended). */
  retain(live: Set<number>): void {
    for (const pid of this.last.keys()) if (!live.has(pid)) this.last.delete(pid);
  }

  private cpuPct(pid: number, stat: string | undefined): number | undefined {
    const ticks = stat === undefined ? undefined : cpuTicks(stat);
    if (ticks === undefined) return undefined;
    const now: CpuReading = { ticks, atMs: Date.now() };
    const prev = this.last.get(pid);
    this.last.set(pid, now);
    if (!prev || now.atMs <= prev.atMs) return undefined;
    return Math.max(0, ((now.ticks - prev.ticks) / CLOCK_TICKS_PER_S / ((now.atMs - prev.atMs) / 1000)) * 100);
  }
}

function readProc(pid: number, file: string): Promise<string | undefined> {
  return readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => undefined);
}

/** utime + stime; the command name (field 2) may hold spaces and parentheses, so count from the last ')'. */
export function cpuTicks(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

function rssBytes(status: string | undefined): number | undefined {
  const m = status?.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** How long SIGSTOP may take to land: the workload must be scheduled once, which a busy host may delay. */
export const STOP_WAIT_MS = 15_000;

/** SIGSTOP's bit in /proc/PID/status's pending-signal masks (signal 19). */
const SIGSTOP_BIT = 1n << 18n;

/** How often a freeze sends SIGSTOP again while the workload is not yet stopped. */
const RESTOP_EVERY_MS = 100;

/**
 * A process in uninterruptible sleep (D) with SIGSTOP pending runs no more of its own code: the
 * signal is taken on its way back from the kernel, before anything else. It can be in D for good:
 * a shell (dash) waiting in vfork for a child that the group's SIGSTOP caught before its exec
 * stays there until the child runs again — as frozen as it gets, and never in state T.
 */
async function stopPending(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const masks = [...status.matchAll(/^(?:ShdPnd|SigPnd):\s*([0-9a-f]+)$/gm)].map((m) => BigInt(`0x${m[1]}`));
  return masks.some((mask) => (mask & SIGSTOP_BIT) !== 0n);
}

/**
 * Waits until the kernel reports `pid` stopped (state T): SIGSTOP takes effect asynchronously,
 * and a freeze must not read the state dir while the workload can still write to it. `stop`
 * sends the signal, at once and again every 100 ms until it lands (under load a freeze once
 * found the workload still running 5 s after a single SIGSTOP), or until it is in D with SIGSTOP
 * pending (see stopPending). 'gone': the process exited first.
 */
export async function waitForStop(pid: number, stop: () => void, timeoutMs = STOP_WAIT_MS): Promise<'stopped' | 'gone' | { timeout: string }> {
  const deadline = Date.now() + timeoutMs;
  let nextStop = 0;
  const seen = new Set<string>();
  for (;;) {
    if (Date.now() >= nextStop) {
      stop();
      nextStop = Date.now() + RESTOP_EVERY_MS;
    }
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Field 3, after the command name in parentheses (which may itself hold spaces or parens).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't') return 'stopped';
    if (!stat || state === 'Z' || state === 'X') return 'gone';
    if (state === 'D' && (await stopPending(pid))) return 'stopped';
    seen.add(state);
    // What the kernel said meanwhile, for the error: R running, S sleeping, D uninterruptible.
    if (Date.now() > deadline) return { timeout: [...seen].join('') };
    await new Promise((r) => setTimeout(r, 5));
  }
}
