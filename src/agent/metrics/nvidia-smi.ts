// GPU metrics from nvidia-smi, without ever blocking the event loop: one long-running
// `nvidia-smi --query-gpu=… -lms N` child streams readings, compute apps are polled with an
// async execFile. (systeminformation's graphics() calls nvidia-smi synchronously: never use it.)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { GpuInfo, GpuProcess, GpuSample } from '../../core/types.js';

export type MetricsLog = (level: 'info' | 'warn', msg: string) => void;

/** The columns we ask nvidia-smi for, in this order; fixtures are recorded in the same order. */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.sm',
  'clocks.mem',
  'fan.speed',
] as const;

export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

const CSV_FORMAT = '--format=csv,noheader,nounits';
const APPS_EVERY_MS = 5_000;
const EXEC_TIMEOUT_MS = 10_000;
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 60_000;
// A child that keeps dying right after its first burst must not reset the backoff (nor log
// "recovered" every time): it counts as healthy only after streaming this long.
const HEALTHY_AFTER_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * One cell as a number; undefined when nvidia-smi says it does not know ([N/A], [Not Supported],
 * N/A, [Unknown Error], empty …). A trailing unit is tolerated in case someone drops `nounits`.
 * Returns null for text that is neither: the columns are misaligned and the line is not trusted.
 */
function numberCell(cell: string): number | undefined | null {
  const v = cell.trim();
  if (v === '' || v === 'N/A' || (v.startsWith('[') && v.endsWith(']'))) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)\s*(?:%|W|MiB|MHz|C)?$/.exec(v);
  return m ? Number(m[1]) : null;
}

function textCell(cell: string): string | undefined {
  const v = cell.trim();
  return numberCell(v) === undefined ? undefined : v;
}

/** Splits a CSV line into `fixedHead` cells, one free-text cell, and `fixedTail` cells, so a
 *  name containing a comma (nvidia-smi does not quote) stays one cell. */
function splitAround(line: string, fixedHead: number, fixedTail: number): string[] | undefined {
  const cells = line.split(',');
  if (cells.length < fixedHead + 1 + fixedTail) return undefined;
  const middle = cells.slice(fixedHead, cells.length - fixedTail).join(',');
  return [...cells.slice(0, fixedHead), middle, ...cells.slice(cells.length - fixedTail)];
}

/** One `--query-gpu=GPU_QUERY_FIELDS` line, or undefined when the line is blank or malformed. */
export function parseGpuLine(line: string): GpuSample | undefined {
  const cells = splitAround(line.trim(), 2, GPU_QUERY_FIELDS.length - 3);
  if (!cells) return undefined;
  const [index, uuid, name, ...rest] = cells as [string, string, string, ...string[]];
  const numbers = [index, ...rest].map(numberCell);
  if (numbers.includes(null)) return undefined;
  const [idx, util, memUtil, used, total, temp, power, limit, sm, mem, fan] = numbers as (number | undefined)[];
  const gpuName = textCell(name);
  const gpuUuid = textCell(uuid);
  if (gpuName === undefined && gpuUuid === undefined) return undefined;
  return {
    index: idx ?? -1,
    uuid: gpuUuid ?? '',
    name: gpuName ?? '',
    utilizationPct: util,
    memoryUtilizationPct: memUtil,
    memoryUsedMib: used,
    memoryTotalMib: total,
    temperatureC: temp,
    powerW: power,
    powerLimitW: limit,
    smClockMhz: sm,
    memoryClockMhz: mem,
    fanPct: fan,
    processes: [],
  };
}

/**
 * All GPUs in one `--query-gpu=GPU_QUERY_FIELDS --format=csv,noheader,nounits` output.
 * Blank and malformed lines are skipped; a GPU whose index is unknown gets its line position.
 */
export function parseGpuCsv(text: string): GpuSample[] {
  const gpus: GpuSample[] = [];
  for (const line of text.split(/\r?\n/)) {
    const gpu = parseGpuLine(line);
    if (gpu) gpus.push(gpu.index >= 0 ? gpu : { ...gpu, index: gpus.length });
  }
  return gpus;
}

/** `--query-compute-apps=gpu_uuid,pid,process_name,used_memory` output, grouped by GPU uuid. */
export function parseComputeAppsCsv(text: string): Map<string, GpuProcess[]> {
  const byGpu = new Map<string, GpuProcess[]>();
  for (const line of text.split(/\r?\n/)) {
    const cells = splitAround(line.trim(), 2, 1);
    if (!cells) continue;
    const [uuid, pidCell, name, memCell] = cells.map((c) => c.trim()) as [string, string, string, string];
    const pid = numberCell(pidCell);
    const usedMemoryMib = numberCell(memCell);
    if (!uuid || pid === undefined || pid === null || usedMemoryMib === null) continue;
    const list = byGpu.get(uuid) ?? [];
    list.push({ pid, name, usedMemoryMib });
    byGpu.set(uuid, list);
  }
  return byGpu;
}

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
