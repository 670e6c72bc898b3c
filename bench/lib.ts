// Shared helpers for the benchmarks: /proc readings, percentiles, child processes, ports.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The built CLI (`npm run build` puts src/ under dist/src/); YARD_BENCH_CLI benches another build. */
export const YARD = process.env.YARD_BENCH_CLI
  ? resolve(process.env.YARD_BENCH_CLI)
  : resolve(import.meta.dirname, '../src/cli/main.js');

/** Extra node flags for the spawned controller and agent, e.g. YARD_BENCH_NODE_FLAGS=--max-semi-space-size=64. */
const NODE_FLAGS = (process.env.YARD_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` every `everyMs` until it returns a value (not undefined); throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last instanceof Error ? last.message : String(last)})` : ''}`,
      );
    await sleep(everyMs);
  }
}

let clkTck: number | undefined;
/** Kernel clock ticks per second (the unit of utime/stime in /proc/<pid>/stat). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** CPU seconds (user + system) a process has used so far; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds of a process's children: the reaped ones (cutime + cstime) plus, per live child,
 * what it has used so far (keyed by pid, so a window can take deltas).
 */
function childCpu(pid: number): { reaped: number; live: Map<number, number> } {
  const f = statFields(pid);
  const reaped = f ? (Number(f[13]) + Number(f[14])) / clockTicks() : 0;
  const live = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    // no /proc
  }
  for (const e of entries) {
    const cf = statFields(Number(e));
    // fields[1] is field 4, the parent pid.
    if (cf && Number(cf[1]) === pid) live.set(Number(e), (Number(cf[11]) + Number(cf[12])) / clockTicks());
  }
  return { reaped, live };
}

/** Busy CPU seconds of the whole machine so far (all cores: user+nice+system+irq+softirq+steal). */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return (user + nice + system + irq + softirq + steal) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in bytes (VmRSS); undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcUsage {
  /** CPU over the window, percent of one core. */
  cpuPct: number;
  /** CPU of its child processes over the window (e.g. nvidia-smi, df), percent of one core. */
  childrenCpuPct: number;
  /** The whole machine's busy CPU over the window, percent of one core (context: is it quiet?). */
  machineBusyPct: number;
  rssMaxBytes: number;
  rssFirstBytes: number;
  rssLastBytes: number;
  windowS: number;
}

/**
 * Watches a process over a window: CPU from utime+stime deltas (percent of ONE core), RSS
 * sampled every `everyMs` (max kept). Call stop() at the end of the window.
 */
export class ProcMonitor {
  private readonly startCpu: number;
  private readonly startChildren: { reaped: number; live: Map<number, number> };
  private readonly startMachine = machineBusySeconds();
  private readonly startWall = performance.now();
  private rssMax = 0;
  private rssFirst = 0;
  private rssLast = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 250,
  ) {
    const c = cpuSeconds(pid);
    if (c === undefined) throw new Error(`process ${pid} is not running`);
    this.startCpu = c;
    this.startChildren = childCpu(pid);
    this.sampleRss();
    this.rssFirst = this.rssLast;
    this.timer = setInterval(() => this.sampleRss(), everyMs);
  }

  private sampleRss(): void {
    const r = rssBytes(this.pid);
    if (r === undefined) return;
    this.rssLast = r;
    if (r > this.rssMax) this.rssMax = r;
  }

  stop(): ProcUsage {
    clearInterval(this.timer);
    this.sampleRss();
    const endCpu = cpuSeconds(this.pid);
    if (endCpu === undefined) throw new Error(`process ${this.pid} exited during the measurement`);
    const windowS = (performance.now() - this.startWall) / 1000;
    const endChildren = childCpu(this.pid);
    let children = endChildren.reaped - this.startChildren.reaped;
    for (const [child, cpu] of endChildren.live) children += cpu - (this.startChildren.live.get(child) ?? 0);
    return {
      cpuPct: ((endCpu - this.startCpu) / windowS) * 100,
      childrenCpuPct: (children / windowS) * 100,
      machineBusyPct: ((machineBusySeconds() - this.startMachine) / windowS) * 100,
      rssMaxBytes: this.rssMax,
      rssFirstBytes: this.rssFirst,
      rssLastBytes: this.rssLast,
      windowS,
    };
  }
}

export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function mean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    mean: mean(sorted),
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

export const mb = (bytes: number) => bytes / (1024 * 1024);
export const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** Temp dirs made by the bench; removeTempDirs() deletes them all (called in finally). */
const tempDirs = new Set<string>();
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}
/** Deletes one temp dir now (a step that made gigabytes frees them before the next one). */
export function removeTempDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort; removeTempDirs() tries again at the end
    return;
  }
  tempDirs.delete(dir);
}
export function removeTempDirs(): void {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort
    }
    tempDirs.delete(dir);
  }
}

const GC_PROBE = pathToFileURL(join(import.meta.dirname, 'gc-probe.js')).href;

/** What a controller started with `gcProbeDir` holds after two full collections (it must be alive). */
export async function memoryAfterGc(pid: number, dir: string): Promise<NodeJS.MemoryUsage> {
  const file = join(dir, `mem-${pid}.json`);
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as NodeJS.MemoryUsage;
    } catch {
      // not written yet (or half written): look again
    }
  }
  throw new Error(`process ${pid} wrote no memory figures after SIGUSR2 (was it started with the GC probe?)`);
}

/** Every child this bench spawned; killAll() in finally and on signals leaves no orphans. */
const children = new Set<YardProcess>();

/** A running `node dist/src/cli/main.js …` (or another `script`) with the tail of its output kept (bounded). */
export class YardProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  private tail = '';
  private partial = '';
  private lines = 0;
  /** WARN/ERROR lines it logged (count, and the last few). */
  warnings = 0;
  readonly lastWarnings: string[] = [];
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  private static readonly TAIL = 64 * 1024;

  /** `wrap`: a prefix to run it under, e.g. `ip netns exec NS` (which execs, so the pid is node's). */
  constructor(
    readonly label: string,
    args: string[],
    script = YARD,
    wrap: string[] = [],
    /** More node flags and environment for this child. */
    extra: { flags?: string[]; env?: Record<string, string> } = {},
  ) {
    const [cmd, ...pre] = [...wrap, process.execPath];
    this.child = spawn(cmd!, [...pre, ...NODE_FLAGS, ...(extra.flags ?? []), script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...extra.env },
    });
    if (this.child.pid === undefined) throw new Error(`could not start ${label}`);
    this.pid = this.child.pid;
    children.add(this);
    const onData = (d: Buffer) => {
      const text = d.toString();
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop()!.slice(-4096);
      for (const line of parts) {
        this.lines++;
        if (/ (WARN|ERROR) /.test(line)) {
          this.warnings++;
          this.lastWarnings.push(line.slice(0, 300));
          if (this.lastWarnings.length > 5) this.lastWarnings.shift();
        }
      }
      this.tail = (this.tail + text).slice(-YardProcess.TAIL);
      for (const w of [...this.waiters]) {
        const m = this.tail.match(w.re);
        if (m) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    this.child.stdout!.on('data', onData);
    this.child.stderr!.on('data', onData);
    this.exited = new Promise((res) =>
      this.child.on('exit', (code) => {
        children.delete(this);
        res(code);
      }),
    );
  }

  /** Lines it has logged so far. */
  get lineCount(): number {
    return this.lines;
  }

  output(): string {
    return this.tail;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves on the first output matching `re`; rejects on timeout or exit. */
  waitForOutput(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const m = this.tail.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((res, rej) => {
      const waiter = {
        re,
        resolve: (x: RegExpMatchArray) => {
          clearTimeout(timer);
          res(x);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        rej(
          new Error(
            `${this.label}: no output matching ${re} within ${timeoutMs} ms; output so far:\n${this.tail.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
      void this.exited.then((code) => {
        if (!this.waiters.includes(waiter)) return;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        clearTimeout(timer);
        rej(new Error(`${this.label} exited (code ${code}) before printing ${re}; output:\n${this.tail.slice(-2000)}`));
      });
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async kill(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

/** Other helper children (not `yard`), killed with the rest. */
const helpers = new Set<ChildProcess>();

/** Runs `node <script> …args` to completion (killed after `timeoutMs`); resolves with its stdout. */
export function runNode(script: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    helpers.add(child);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-1_000_000)));
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-10_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', rej);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      helpers.delete(child);
      if (code === 0) res(out);
      else rej(new Error(`${script} ${signal ? `was killed (${signal})` : `exited ${code}`}: ${err.slice(-500)}`));
    });
  });
}

export async function killAll(): Promise<void> {
  for (const h of helpers) h.kill('SIGKILL');
  await Promise.all([...children].map((c) => c.kill()));
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const h of helpers) h.kill('SIGKILL');
  for (const c of children) {
    try {
      c.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Starts `yard controller` on 127.0.0.1:<free port> (`args`: more flags) on a new temp dir, or on
 * `dataDir`; resolves once it logs `ready` (default `controller listening`: a standby on etcd
 * says `standby` instead, and listens only once it leads).
 */
export async function startController(
  opts: {
    heartbeat?: string;
    grace?: string;
    args?: string[];
    dataDir?: string;
    ready?: RegExp;
    /** Preload the GC probe (gc-probe.ts), writing to this dir: see memoryAfterGc(). */
    gcProbeDir?: string;
  } = {},
): Promise<{
  proc: YardProcess;
  address: string;
  dataDir: string;
  /** The whole join token (`yard1.<secret>.sha256:<CA pin>`), for real agents' --token-file. */
  joinTokenFile: string;
  control: string;
}> {
  const dataDir = opts.dataDir ?? tempDir('yard-bench-ctl-');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const proc = new YardProcess(
    'controller',
    [
      'controller',
      '--data-dir',
      dataDir,
      '--listen',
      address,
      '--heartbeat',
      opts.heartbeat ?? '1s',
      '--grace',
      opts.grace ?? '30s',
      ...(opts.args ?? []),
    ],
    YARD,
    [],
    opts.gcProbeDir ? { flags: ['--import', GC_PROBE], env: { YARD_BENCH_GC_PROBE_DIR: opts.gcProbeDir } } : {},
  );
  await proc.waitForOutput(opts.ready ?? /controller listening/, 20_000);
  return {
    proc,
    address,
    dataDir,
    joinTokenFile: join(dataDir, 'join-token'),
    control: `unix:${join(dataDir, 'control.sock')}`,
  };
}
