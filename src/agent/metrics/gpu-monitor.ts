// GPU metrics from nvidia-smi, without ever blocking the event loop: one long-running
// `nvidia-smi --query-gpu=… -lms N` child streams readings, compute apps are polled with an
// async execFile. (systeminformation's graphics() calls nvidia-smi synchronously: never use it.)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { GpuInfo, GpuProcess, GpuSample } from '../../core/types.js';
import { COMPUTE_APPS_FIELDS, CSV_FORMAT, GPU_QUERY_FIELDS, parseComputeAppsCsv, parseGpuCsv, parseGpuLine } from './nvidia-smi.js';

export type MetricsLog = (level: 'info' | 'warn', msg: string) => void;

const APPS_EVERY_MS = 5_000;
const EXEC_TIMEOUT_MS = 10_000;
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 60_000;
// A child that keeps dying right after its first burst must not reset the backoff (nor log
// "recovered" every time): it counts as healthy only after streaming this long.
const HEALTHY_AFTER_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// One-shot queries

type ExecResult = { ok: true; stdout: string } | { ok: false; absent: boolean; message: string };

function runNvidiaSmi(bin: string, args: string[], signal?: AbortSignal): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: EXEC_TIMEOUT_MS, signal, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const code = (err as NodeJS.ErrnoException).code;
      const detail = String(stderr || stdout).trim().split('\n')[0] || err.message;
      resolve({ ok: false, absent: code === 'ENOENT', message: detail });
    });
  });
}

/**
 * The GPUs on this host, asked once. [] when nvidia-smi is absent, and also when it is present
 * but fails (driver not loaded, no devices): the agent must start either way, and the GPU
 * monitor, which asks again, is the one that logs why.
 */
export async function probeGpus(nvidiaSmiPath = 'nvidia-smi'): Promise<GpuInfo[]> {
  const res = await runNvidiaSmi(nvidiaSmiPath, [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, CSV_FORMAT]);
  if (!res.ok) return [];
  return parseGpuCsv(res.stdout).map(({ index, name, uuid, memoryTotalMib }) => ({ index, name, uuid, memoryTotalMib }));
}

// ---------------------------------------------------------------------------------------------
// Streaming monitor

/** Warns when something starts failing and says so once when it recovers, never per retry. */
function warnOnce(log: MetricsLog) {
  let failing = false;
  return {
    fail(msg: string) {
      if (!failing) log('warn', msg);
      failing = true;
    },
    ok(msg: string) {
      if (failing) log('info', msg);
      failing = false;
    },
  };
}

export interface GpuReading {
  /** Date.now() when the burst arrived. */
  atMs: number;
  gpus: GpuSample[];
}

export interface GpuMonitor {
  start(): void;
  /** Kills the nvidia-smi child and waits for it to exit. */
  stop(): Promise<void>;
  /** The newest complete reading with compute processes attached, if any. */
  latest(): GpuReading | undefined;
}

export interface GpuMonitorOptions {
  intervalMs: number;
  nvidiaSmi?: string;
  log?: MetricsLog;
}

/**
 * Keeps one `nvidia-smi --query-gpu=… -lms <intervalMs>` child alive and turns its stream into
 * readings. nvidia-smi prints one line per GPU per interval; a burst ends when it holds as many
 * GPUs as the probe found, when the index goes back down, or after a short quiet gap.
 */
export function createGpuMonitor(opts: GpuMonitorOptions): GpuMonitor {
  const bin = opts.nvidiaSmi ?? 'nvidia-smi';
  const log = opts.log ?? (() => {});
  const quietMs = Math.min(250, Math.max(20, opts.intervalMs / 4));

  let running = false;
  let abort = new AbortController();
  let child: ChildProcess | undefined;
  let childStartedAt = 0;
  let childExit: Promise<void> = Promise.resolve();
  let expected = 0;
  let pending: GpuSample[] = [];
  let reading: GpuReading | undefined;
  let processes = new Map<string, GpuProcess[]>();
  let appsAt = 0;
  let appsInFlight = false;
  let restartMs = RESTART_MIN_MS;
  let quietTimer: NodeJS.Timeout | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  const loopTrouble = warnOnce(log);
  const appsTrouble = warnOnce(log);

  const flush = () => {
    clearTimeout(quietTimer);
    if (pending.length === 0) return;
    reading = { atMs: Date.now(), gpus: pending.map((g, i) => (g.index >= 0 ? g : { ...g, index: i })) };
    pending = [];
    if (Date.now() - childStartedAt >= HEALTHY_AFTER_MS) {
      restartMs = RESTART_MIN_MS;
      loopTrouble.ok(`nvidia-smi (${bin}) is reporting again`);
    }
    void pollApps();
  };

  const onLine = (line: string) => {
    const gpu = abort.signal.aborted ? undefined : parseGpuLine(line);
    if (!gpu) return;
    const last = pending[pending.length - 1];
    if (last && gpu.index >= 0 && gpu.index <= last.index) flush();
    pending.push(gpu);
    if (expected > 0 && pending.length >= expected) flush();
    else {
      clearTimeout(quietTimer);
      quietTimer = setTimeout(flush, quietMs);
    }
  };

  const pollApps = async () => {
    if (appsInFlight || Date.now() - appsAt < APPS_EVERY_MS) return;
    appsInFlight = true;
    appsAt = Date.now();
    const { signal } = abort;
    const res = await runNvidiaSmi(bin, [`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, CSV_FORMAT], signal);
    appsInFlight = false;
    if (signal.aborted) return;
    // A failed query means "unknown", not "still the old processes".
    processes = res.ok ? parseComputeAppsCsv(res.stdout) : new Map();
    if (res.ok) appsTrouble.ok('nvidia-smi compute-apps query works again');
    else appsTrouble.fail(`nvidia-smi compute-apps query failed: ${res.message}; GPU processes are unknown until it recovers`);
  };

  const scheduleRestart = (why: string) => {
    loopTrouble.fail(`${why}; retrying with backoff (next in ${restartMs / 1000}s)`);
    restartTimer = setTimeout(() => void begin(), restartMs);
    restartTimer.unref();
    restartMs = Math.min(restartMs * 2, RESTART_MAX_MS);
  };

  const spawnLoop = () => {
    const args = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, CSV_FORMAT, '-lms', String(Math.round(opts.intervalMs))];
    const { signal: lifetime } = abort; // aborted by stop(): then an exit is expected, not news
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    childStartedAt = Date.now();
    let stderrTail = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk: string) => (stderrTail = (stderrTail + chunk).slice(-500)));
    createInterface({ input: proc.stdout }).on('line', onLine);
    childExit = new Promise((resolve) => {
      let spawnError: NodeJS.ErrnoException | undefined;
      proc.once('error', (err: NodeJS.ErrnoException) => (spawnError = err));
      proc.once('close', (code, signal) => {
        child = undefined;
        pending = []; // a burst cut short by the exit is not a reading
        if (lifetime.aborted) return resolve();
        if (spawnError?.code === 'ENOENT') log('info', `nvidia-smi not found (${bin}); this host reports no GPUs`);
        else if (spawnError) scheduleRestart(`nvidia-smi (${bin}) could not start: ${spawnError.message}`);
        else scheduleRestart(`nvidia-smi (${bin}) exited (${signal ?? `code ${code}`}): ${stderrTail.trim() || 'no message'}`);
        resolve();
      });
    });
  };

  // Probe first: it tells how many lines make a burst, and whether nvidia-smi exists at all.
  const begin = async () => {
    const { signal } = abort;
    const res = await runNvidiaSmi(bin, [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, CSV_FORMAT], signal);
    if (signal.aborted) return;
    if (!res.ok && res.absent) return log('info', `nvidia-smi not found (${bin}); this host reports no GPUs`);
    if (!res.ok) return scheduleRestart(`nvidia-smi (${bin}) failed: ${res.message}`);
    const gpus = parseGpuCsv(res.stdout);
    if (expected !== gpus.length) log('info', `nvidia-smi sees ${gpus.length} GPU(s): ${gpus.map((g) => g.name).join(', ')}`);
    expected = gpus.length;
    spawnLoop();
  };

  return {
    start() {
      if (running) return;
      running = true;
      abort = new AbortController();
      void begin();
    },
    async stop() {
      running = false;
      abort.abort();
      clearTimeout(quietTimer);
      clearTimeout(restartTimer);
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const killer = setTimeout(() => proc.kill('SIGKILL'), 2_000);
        await childExit;
        clearTimeout(killer);
      }
      child = undefined;
    },
    latest() {
      if (!reading) return undefined;
      return { atMs: reading.atMs, gpus: reading.gpus.map((g) => ({ ...g, processes: processes.get(g.uuid) ?? [] })) };
    },
  };
}
