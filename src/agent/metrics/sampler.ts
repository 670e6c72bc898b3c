// The agent's sampler: one HostSample every interval, with the newest GPU reading merged in.
// Samples wait in a small bounded buffer until the session drains them, so an agent that cannot
// reach its controller keeps constant memory and sends the freshest samples when it can.
import type { GpuInfo, GpuSample, HostSample } from '../../core/types.js';
import { createHostReader } from './host.js';
import {
  createGpuMonitor,
  type GpuMonitorOptions,
  type GpuReading,
  type GpuSamplerStatus,
  type MetricsLog,
} from './gpu-monitor.js';

/** How many undrained samples are kept; older ones are dropped. */
export const MAX_BUFFERED_SAMPLES = 30;

export interface HostSamplerOptions {
  intervalMs: number;
  /** Path of nvidia-smi (default: `nvidia-smi` on PATH). */
  nvidiaSmi?: string;
  log?: MetricsLog;
  /** How long nvidia-smi may take to answer before it counts as stuck (default 10 s). */
  gpuAnswerTimeoutMs?: number;
  /** Tells each GPU process's user and workload (see gpu-owners.ts). */
  describeGpuProcesses?: GpuMonitorOptions['describe'];
}

export interface HostSampler {
  start(): void;
  /** Stops sampling, kills the nvidia-smi child and clears every timer. */
  stop(): Promise<void>;
  latest(): HostSample | undefined;
  /** Samples taken since the last drain, oldest first; at most MAX_BUFFERED_SAMPLES. */
  drain(): HostSample[];
  /** Calls `cb` with every new sample; returns the unsubscribe function. */
  onSample(cb: (s: HostSample) => void): () => void;
  /** The GPUs nvidia-smi found ([] until it answered). */
  gpus(): GpuInfo[];
  /** Resolves once nvidia-smi first answered, failed or got stuck, or after `maxWaitMs`. */
  gpusProbed(maxWaitMs: number): Promise<void>;
  /** How GPU sampling goes (`stuck` while a hung nvidia-smi is alive). */
  gpuStatus(): GpuSamplerStatus;
}

/**
 * A GPU reading older than this is no longer "now": the GPUs stay listed (they did not leave the
 * host) but every reading becomes unknown, never a frozen number that looks fresh.
 */
function staleAfterMs(intervalMs: number): number {
  return 3 * intervalMs + 2_000;
}

function gpusAt(reading: GpuReading | undefined, nowMs: number, intervalMs: number): GpuSample[] {
  if (!reading) return [];
  if (nowMs - reading.atMs <= staleAfterMs(intervalMs)) return reading.gpus;
  return reading.gpus.map(({ index, uuid, name, memoryTotalMib }) => ({
    index,
    uuid,
    name,
    memoryTotalMib,
    processes: [],
  }));
}

export function createHostSampler(opts: HostSamplerOptions): HostSampler {
  if (!Number.isFinite(opts.intervalMs) || opts.intervalMs <= 0) {
    throw new RangeError(
      `sampling interval must be a positive number of milliseconds, got ${opts.intervalMs}; use e.g. 1000`,
    );
  }
  const log = opts.log ?? (() => {});
  const gpuMonitor = createGpuMonitor({
    intervalMs: opts.intervalMs,
    nvidiaSmi: opts.nvidiaSmi,
    log,
    answerTimeoutMs: opts.gpuAnswerTimeoutMs,
    describe: opts.describeGpuProcesses,
  });
  const host = createHostReader();
  const listeners = new Set<(s: HostSample) => void>();
  let buffer: HostSample[] = [];
  let newest: HostSample | undefined;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let nextAt = 0;

  const publish = (sample: HostSample) => {
    newest = sample;
    buffer.push(sample);
    if (buffer.length > MAX_BUFFERED_SAMPLES) buffer.splice(0, buffer.length - MAX_BUFFERED_SAMPLES);
    for (const cb of listeners) {
      try {
        cb(sample);
      } catch (err) {
        log(
          'warn',
          `a sample listener threw (${err instanceof Error ? err.message : String(err)}); the sampler keeps going`,
        );
      }
    }
  };

  const sampleOnce = async () => {
    const timestampMs = Date.now();
    try {
      const reading = await host.read();
      // Every sample says how nvidia-smi fares: a host whose tooling broke must not pass for one without GPUs.
      const { state, sinceMs, message } = gpuMonitor.status();
      if (running)
        publish({
          timestampMs,
          ...reading,
          gpus: gpusAt(gpuMonitor.latest(), timestampMs, opts.intervalMs),
          gpuStatus: { state, sinceMs, message },
        });
    } catch (err) {
      log(
        'warn',
        `host sample failed: ${err instanceof Error ? err.message : String(err)}; will try again next interval`,
      );
    }
  };

  // The next tick is scheduled only after this one finished, so a slow sample never overlaps
  // the next; missed slots are skipped rather than caught up in a burst.
  const tick = () => {
    inFlight = sampleOnce().finally(() => {
      inFlight = undefined;
      if (!running) return;
      const now = Date.now();
      nextAt += opts.intervalMs;
      if (nextAt < now) nextAt = now + opts.intervalMs - ((now - nextAt) % opts.intervalMs);
      timer = setTimeout(tick, nextAt - now);
      timer.unref();
    });
  };

  return {
    start() {
      if (running) return;
      running = true;
      gpuMonitor.start();
      inFlight = host
        .prime()
        .catch((err: unknown) =>
          log('warn', `host metrics baseline failed: ${err instanceof Error ? err.message : String(err)}`),
        )
        .finally(() => {
          inFlight = undefined;
          if (!running) return;
          nextAt = Date.now() + opts.intervalMs;
          timer = setTimeout(tick, opts.intervalMs);
          timer.unref();
        });
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await Promise.all([gpuMonitor.stop(), inFlight]);
    },
    latest: () => newest,
    drain() {
      const out = buffer;
      buffer = [];
      return out;
    },
    onSample(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    gpus: () => gpuMonitor.gpus(),
    gpusProbed: (maxWaitMs) => gpuMonitor.probed(maxWaitMs),
    gpuStatus: () => gpuMonitor.status(),
  };
}
