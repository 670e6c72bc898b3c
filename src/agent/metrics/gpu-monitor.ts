// GPU metrics from nvidia-smi, without ever blocking the event loop: one long-running
// `nvidia-smi --query-gpu=… -lms N` child streams readings, compute apps are polled now and
// then. (systeminformation's graphics() calls nvidia-smi synchronously: never use it.) Every
// child goes through one NvidiaSmiRunner, so a hung driver costs one stuck process, reported
// as such, and never a new one per retry.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { GpuInfo, GpuProcess, GpuSample } from '../../core/types.js';
import {
  COMPUTE_APPS_FIELDS,
  CSV_FORMAT,
  GPU_QUERY_FIELDS,
  parseComputeAppsCsv,
  parseGpuCsv,
  parseGpuLine,
} from './nvidia-smi.js';
import { NvidiaSmiRunner, type Stuck } from './nvidia-smi-runner.js';

export type MetricsLog = (level: 'info' | 'warn', msg: string) => void;

const APPS_EVERY_MS = 5_000;
const ANSWER_TIMEOUT_MS = 10_000;
const RESTART_MIN_MS = 1_000;
const RESTART_MAX_MS = 60_000;
// A child that keeps dying right after its first burst must not reset the backoff (nor log
// "recovered" every time): it counts as healthy only after streaming this long.
const HEALTHY_AFTER_MS = 30_000;

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

/**
 * How GPU sampling goes: `starting` until the first answer, `ok` while readings stream,
 * `absent` without nvidia-smi, `failing` while it errors (retried with backoff), `stuck` while
 * an nvidia-smi that stopped answering is still alive (nothing new starts until it exits).
 */
export type GpuSamplerState = 'starting' | 'ok' | 'absent' | 'failing' | 'stuck' | 'stopped';

export interface GpuSamplerStatus {
  state: GpuSamplerState;
  /** Since when (Date.now()). */
  sinceMs: number;
  /** What went wrong, for `failing` and `stuck`. */
  message: string;
  /** The stuck nvidia-smi's pid. */
  stuckPid?: number;
}

export interface GpuMonitor {
  start(): void;
  /** Ends every nvidia-smi child and waits (boundedly) for them to exit. */
  stop(): Promise<void>;
  /** The newest complete reading with compute processes attached, if any. */
  latest(): GpuReading | undefined;
  /** The GPUs the last successful probe found ([] until one succeeded). */
  gpus(): GpuInfo[];
  /** Resolves once the first probe has an outcome (answer, absence, failure or stuck), or after `maxWaitMs`. */
  probed(maxWaitMs: number): Promise<void>;
  status(): GpuSamplerStatus;
  /** nvidia-smi processes started and not yet exited (at most one while stuck). */
  childrenAlive(): number;
}

export interface GpuMonitorOptions {
  intervalMs: number;
  nvidiaSmi?: string;
  log?: MetricsLog;
  /** How long nvidia-smi may take to answer (or a loop stay silent) before it counts as stuck. */
  answerTimeoutMs?: number;
  /** Adds what nvidia-smi does not say of its compute processes (their users and workloads). */
  describe?: (byGpu: Map<string, GpuProcess[]>) => Promise<Map<string, GpuProcess[]>>;
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
  const answerTimeoutMs = opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;

  let running = false;
  let generation = 0; // bumped by stop(): callbacks of an older run are not news
  let childStartedAt = 0;
  let silencedLoop: ChildProcess | undefined;
  let expected = 0;
  let known: GpuInfo[] = [];
  let pending: GpuSample[] = [];
  let reading: GpuReading | undefined;
  let processes = new Map<string, GpuProcess[]>();
  let appsAt = 0;
  let appsInFlight = false;
  let restartMs = RESTART_MIN_MS;
  let quietTimer: NodeJS.Timeout | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let silenceTimer: NodeJS.Timeout | undefined;
  let status: GpuSamplerStatus = { state: 'starting', sinceMs: Date.now(), message: '' };
  let probedOnce = false;
  const probeWaiters = new Set<() => void>();
  const loopTrouble = warnOnce(log);
  const appsTrouble = warnOnce(log);

  const setState = (state: GpuSamplerState, message = '', stuckPid?: number) => {
    if (status.state !== state || status.message !== message)
      status = { state, sinceMs: Date.now(), message, stuckPid };
  };
  const probeDone = () => {
    probedOnce = true;
    for (const wake of probeWaiters) wake();
    probeWaiters.clear();
  };

  const runner = new NvidiaSmiRunner({
    bin,
    answerTimeoutMs,
    onStuck: (s: Stuck) => {
      setState('stuck', `nvidia-smi (pid ${s.pid}) ${s.why}`, s.pid);
      log(
        'warn',
        `nvidia-smi (${bin}, pid ${s.pid}) ${s.why}; it is being ended (SIGTERM, then SIGKILL) and no other nvidia-smi starts until it exits; GPU readings are unknown meanwhile (a hung GPU driver does this: look for NVRM or Xid errors in \`dmesg\`)`,
      );
      probeDone();
    },
    onUnstuck: (s: Stuck) => {
      log('info', `the stuck nvidia-smi (pid ${s.pid}) exited after ${Math.round((Date.now() - s.sinceMs) / 1000)}s`);
      if (running) scheduleRestart(`nvidia-smi (${bin}) was stuck`, false);
    },
  });

  const flush = () => {
    clearTimeout(quietTimer);
    if (pending.length === 0) return;
    reading = { atMs: Date.now(), gpus: pending.map((g, i) => (g.index >= 0 ? g : { ...g, index: i })) };
    pending = [];
    if (!runner.stuck()) setState('ok');
    if (Date.now() - childStartedAt >= HEALTHY_AFTER_MS) {
      restartMs = RESTART_MIN_MS;
      loopTrouble.ok(`nvidia-smi (${bin}) is reporting again`);
    }
    void pollApps();
  };

  const onLine = (line: string) => {
    const gpu = running ? parseGpuLine(line) : undefined;
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
    if (appsInFlight || runner.stuck() || Date.now() - appsAt < APPS_EVERY_MS) return;
    appsInFlight = true;
    appsAt = Date.now();
    const gen = generation;
    const res = await runner.run([`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, CSV_FORMAT]);
    const parsed = res.ok ? parseComputeAppsCsv(res.stdout) : new Map<string, GpuProcess[]>();
    // Owners are extra: processes without them are still worth reporting.
    const described = opts.describe ? await opts.describe(parsed).catch(() => parsed) : parsed;
    appsInFlight = false;
    if (gen !== generation) return;
    // A failed query means "unknown", not "still the old processes".
    processes = described;
    if (res.ok) appsTrouble.ok('nvidia-smi compute-apps query works again');
    else if (!res.stuck)
      appsTrouble.fail(
        `nvidia-smi compute-apps query failed: ${res.message}; GPU processes are unknown until it recovers`,
      );
  };

  const scheduleRestart = (why: string, warn = true) => {
    clearTimeout(restartTimer);
    if (warn) {
      setState('failing', why);
      loopTrouble.fail(`${why}; retrying with backoff (next in ${restartMs / 1000}s)`);
    }
    const gen = generation;
    restartTimer = setTimeout(() => gen === generation && void begin(), restartMs);
    restartTimer.unref();
    restartMs = Math.min(restartMs * 2, RESTART_MAX_MS);
  };

  // A loop that prints nothing for this long is stuck like a query that never answers.
  const watchSilence = (proc: ChildProcess) => {
    clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => {
      silencedLoop = proc;
      runner.wedge(proc, `printed no reading for ${(answerTimeoutMs + opts.intervalMs) / 1000}s`);
    }, answerTimeoutMs + opts.intervalMs);
    silenceTimer.unref();
  };

  const spawnLoop = () => {
    const args = [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, CSV_FORMAT, '-lms', String(Math.round(opts.intervalMs))];
    const gen = generation;
    const proc = runner.start(args);
    if (!proc) return; // one is stuck: onUnstuck starts again
    childStartedAt = Date.now();
    let stderrTail = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => (stderrTail = (stderrTail + chunk).slice(-500)));
    watchSilence(proc);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      watchSilence(proc);
      onLine(line);
    });
    let spawnError: NodeJS.ErrnoException | undefined;
    proc.once('error', (err: NodeJS.ErrnoException) => (spawnError = err));
    proc.once('close', (code, signal) => {
      clearTimeout(silenceTimer);
      pending = []; // a burst cut short by the exit is not a reading
      if (gen !== generation || silencedLoop === proc) return; // stopped, or onUnstuck takes over
      if (spawnError?.code === 'ENOENT') return noNvidiaSmi();
      if (spawnError) scheduleRestart(`nvidia-smi (${bin}) could not start: ${spawnError.message}`);
      else
        scheduleRestart(
          `nvidia-smi (${bin}) exited (${signal ?? `code ${code}`}): ${stderrTail.trim() || 'no message'}`,
        );
    });
  };

  const noNvidiaSmi = () => {
    setState('absent');
    log('info', `nvidia-smi not found (${bin}); this host reports no GPUs`);
  };

  // Probe first: it tells how many lines make a burst, and whether nvidia-smi exists at all.
  const begin = async () => {
    const gen = generation;
    const res = await runner.run([`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, CSV_FORMAT]);
    if (gen !== generation) return;
    if (!res.ok) {
      probeDone();
      if (res.stuck) return; // reported by onStuck; onUnstuck starts again
      if (res.absent) return noNvidiaSmi();
      return scheduleRestart(`nvidia-smi (${bin}) failed: ${res.message}`);
    }
    const gpus = parseGpuCsv(res.stdout);
    if (expected !== gpus.length)
      log('info', `nvidia-smi sees ${gpus.length} GPU(s): ${gpus.map((g) => g.name).join(', ')}`);
    expected = gpus.length;
    known = gpus.map(({ index, name, uuid, memoryTotalMib }) => ({ index, name, uuid, memoryTotalMib }));
    probeDone();
    spawnLoop();
  };

  return {
    start() {
      if (running) return;
      running = true;
      setState('starting');
      void begin();
    },
    async stop() {
      running = false;
      generation++;
      clearTimeout(quietTimer);
      clearTimeout(restartTimer);
      clearTimeout(silenceTimer);
      await runner.stopAll();
      setState('stopped');
    },
    latest() {
      if (!reading) return undefined;
      return { atMs: reading.atMs, gpus: reading.gpus.map((g) => ({ ...g, processes: processes.get(g.uuid) ?? [] })) };
    },
    gpus: () => known,
    probed(maxWaitMs) {
      if (probedOnce) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          probeWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, maxWaitMs);
        probeWaiters.add(done);
      });
    },
    status: () => ({ ...status }),
    childrenAlive: () => runner.aliveCount(),
  };
}
