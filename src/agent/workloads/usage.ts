// CPU and memory of a workload's process, read from /proc (no child processes: this runs
// every couple of seconds for every workload). Linux only; elsewhere usage stays unknown.
import { readdir, readFile } from 'node:fs/promises';

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

/** The fields of a /proc/PID/stat line from field 3 (state) on: the command name (field 2) may hold spaces and parentheses, so count from the last ')'. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime. */
function cpuTicks(stat: string): number | undefined {
  const fields = statFields(stat);
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

/** Whether a process in `state` runs no more of its own code once frozen: stopped, exited, or in D with SIGSTOP pending. */
async function frozen(pid: number, state: string): Promise<boolean> {
  if (state === 'T' || state === 't' || state === 'Z' || state === 'X') return true;
  return state === 'D' && stopPending(pid);
}

/** The states of the group's members that still run: empty once every one of them is frozen. */
async function runningMembers(group: number): Promise<string[]> {
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name)).map(Number);
  const states = await Promise.all(
    pids.map(async (pid) => {
      const stat = await readProc(pid, 'stat');
      if (!stat) return undefined;
      // Field 3 is the state, field 5 the process group.
      const [state = '', , of] = statFields(stat);
      return Number(of) === group && !(await frozen(pid, state)) ? state : undefined;
    }),
  );
  return states.filter((state): state is string => state !== undefined);
}

/**
 * Waits until the kernel reports every process of `pid`'s group stopped (state T): SIGSTOP goes
 * to the whole group and takes effect asynchronously, and a freeze must not read the state dir
 * while any of them can still write to it — the leader stopping says nothing of its children.
 * `stop` sends the signal, at once and again every 100 ms until it lands (under load a freeze
 * once found the workload still running 5 s after a single SIGSTOP); a process in D with SIGSTOP
 * pending counts as stopped (see stopPending). 'gone': the leader exited first.
 */
export async function waitForStop(
  pid: number,
  stop: () => void,
  timeoutMs = STOP_WAIT_MS,
): Promise<'stopped' | 'gone' | { timeout: string }> {
  const deadline = Date.now() + timeoutMs;
  let nextStop = 0;
  const seen = new Set<string>();
  for (;;) {
    if (Date.now() >= nextStop) {
      stop();
      nextStop = Date.now() + RESTOP_EVERY_MS;
    }
    const stat = await readProc(pid, 'stat');
    const state = statFields(stat ?? '')[0] ?? '';
    if (!stat || state === 'Z' || state === 'X') return 'gone';
    // The leader first, as it is one read; the whole group (a scan of /proc) only once it is frozen.
    const running = (await frozen(pid, state)) ? await runningMembers(pid) : [state];
    if (running.length === 0) return 'stopped';
    for (const s of running) seen.add(s);
    // What the kernel said meanwhile, for the error: R running, S sleeping, D uninterruptible.
    if (Date.now() > deadline) return { timeout: [...seen].join('') };
    await new Promise((r) => setTimeout(r, 5));
  }
}
