// The sampler on this very host (real systeminformation, real /proc), with GPUs from the FAKE
// nvidia-smi that replays recorded output (test/fixtures/bin/nvidia-smi). Behaviour, not timing.
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeHost } from '../../src/agent/metrics/host.js';
import { createGpuMonitor } from '../../src/agent/metrics/gpu-monitor.js';
import { MAX_BUFFERED_SAMPLES, createHostSampler, type HostSampler } from '../../src/agent/metrics/sampler.js';
import type { HostSample } from '../../src/core/types.js';

const FAKE_NVIDIA_SMI = fileURLToPath(new URL('../fixtures/bin/nvidia-smi', import.meta.url));
// FAKE: an nvidia-smi stuck in a hung driver (never answers, ignores SIGTERM).
const HUNG_NVIDIA_SMI = fileURLToPath(new URL('../fixtures/bin/nvidia-smi-hung', import.meta.url));
const linkDirs: string[] = [];

let sampler: HostSampler | undefined;
let stopMonitor: (() => Promise<void>) | undefined;
const savedEnv = { ...process.env };

afterEach(async () => {
  await sampler?.stop();
  await stopMonitor?.();
  sampler = undefined;
  stopMonitor = undefined;
  process.env = { ...savedEnv };
  for (const dir of linkDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `fixture` under a path of its own, so /proc tells this test's processes from any other's. */
function ownPath(fixture: string): string {
  const dir = mkdtempSync(join(os.tmpdir(), 'yard-smi-'));
  linkDirs.push(dir);
  symlinkSync(fixture, join(dir, 'nvidia-smi'));
  return join(dir, 'nvidia-smi');
}

/** Every process whose command line names `path`, whoever its parent is now (orphans too). */
function processesRunning(path: string, also = ''): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes(path) && cmdline.includes(also);
      } catch {
        return false; // it exited while we looked
      }
    })
    .map(Number);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nextSample(s: HostSampler, accept: (x: HostSample) => boolean = () => true): Promise<HostSample> {
  return new Promise((resolve) => {
    const off = s.onSample((x) => {
      if (!accept(x)) return;
      off();
      resolve(x);
    });
  });
}

/** Our own child processes that run the given executable (Linux /proc). */
function childrenRunning(executable: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
        return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(executable);
      } catch {
        return false; // it exited while we looked
      }
    })
    .map(Number);
}

describe('host sampler on this host', () => {
  it('samples CPU, memory and load with sane values and no GPUs when nvidia-smi is absent', async () => {
    const log = vi.fn();
    sampler = createHostSampler({ intervalMs: 200, nvidiaSmi: '/nonexistent/nvidia-smi', log });
    const before = Date.now();
    sampler.start();
    const s = await nextSample(sampler);

    expect(s.timestampMs).toBeGreaterThanOrEqual(before);
    expect(s.cpuPct).toBeGreaterThanOrEqual(0);
    expect(s.cpuPct).toBeLessThanOrEqual(100);
    expect(s.cpuPerCorePct).toHaveLength(os.cpus().length);
    for (const core of s.cpuPerCorePct) expect(core).toBeGreaterThanOrEqual(0);
    expect(s.memoryTotalBytes).toBeGreaterThan(0);
    expect(s.memoryUsedBytes).toBeGreaterThan(0);
    expect(s.memoryUsedBytes).toBeLessThanOrEqual(s.memoryTotalBytes);
    expect(s.load1).toBeGreaterThanOrEqual(0);
    expect(s.nets.map((n) => n.iface)).not.toContain('lo');
    expect(s.netRxBytesPerSec).toBe(s.nets.reduce((sum, n) => sum + n.rxBytesPerSec, 0));
    expect(s.disks.length).toBeGreaterThan(0);
    expect(s.disks.some((d) => d.mount === '/')).toBe(true);
    expect(s.gpus).toEqual([]);
    expect(sampler.latest()).toEqual(s);

    // No GPU on this host is not a problem: one info line, no warnings.
    expect(log).toHaveBeenCalledWith('info', expect.stringContaining('nvidia-smi not found'));
    expect(log.mock.calls.filter(([level]) => level === 'warn')).toEqual([]);
  });

  it('merges GPU readings and their compute processes from the fake nvidia-smi', async () => {
    process.env.FAKE_NVIDIA_SMI_FIXTURE = 'h100-load';
    sampler = createHostSampler({ intervalMs: 200, nvidiaSmi: FAKE_NVIDIA_SMI });
    sampler.start();
    const s = await nextSample(sampler, (x) => (x.gpus[0]?.processes.length ?? 0) > 0);

    expect(s.gpus).toHaveLength(1);
    expect(s.gpus[0]).toMatchObject({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      utilizationPct: 100,
      memoryUsedMib: 19818,
      powerW: 631.95,
      fanPct: undefined,
    });
    expect(s.gpus[0]?.processes.map((p) => [p.pid, p.name, p.usedMemoryMib])).toEqual([
      [11327, '/root/tools/memhog', 2566],
      [11328, '/root/tools/memhog', 1542],
      [11345, './gpu_burn', 15690],
    ]);
  });

  it('reads all eight GPUs of a multi-GPU burst as one reading', async () => {
    process.env.FAKE_NVIDIA_SMI_FIXTURE = 'h100-x8-load';
    sampler = createHostSampler({ intervalMs: 100, nvidiaSmi: FAKE_NVIDIA_SMI });
    sampler.start();
    const s = await nextSample(sampler, (x) => x.gpus.length > 0);
    expect(s.gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(s.gpus.map((g) => g.memoryUsedMib)).toEqual([78942, 78990, 78990, 78750, 21340, 19760, 19742, 19770]);
  });

  it('restarts nvidia-smi when it dies, with one warning however often it dies', async () => {
    process.env.FAKE_NVIDIA_SMI_FIXTURE = 'h100-idle';
    process.env.FAKE_NVIDIA_SMI_DIE_AFTER = '1'; // every child exits after its first burst
    const log = vi.fn();
    const monitor = createGpuMonitor({ intervalMs: 100, nvidiaSmi: FAKE_NVIDIA_SMI, log });
    stopMonitor = () => monitor.stop();
    monitor.start();

    const readingAfter = async (atMs: number) => {
      await vi.waitFor(() => expect(monitor.latest()?.atMs ?? 0).toBeGreaterThan(atMs), { timeout: 10_000 });
      return monitor.latest()!;
    };
    const first = await readingAfter(0);
    const second = await readingAfter(first.atMs); // from the restarted child
    await readingAfter(second.atMs); // and from the one after
    expect(second.gpus[0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', temperatureC: 41 });
    expect(log.mock.calls.filter(([level]) => level === 'warn')).toEqual([
      ['warn', expect.stringContaining('exited (code 1)')],
    ]);
  });

  it('never starts a second nvidia-smi while a hung one is alive, and reports the sampler stuck', async () => {
    const bin = ownPath(HUNG_NVIDIA_SMI);
    const log = vi.fn();
    const monitor = createGpuMonitor({ intervalMs: 100, nvidiaSmi: bin, log, answerTimeoutMs: 300 });
    stopMonitor = () => monitor.stop();
    const t0 = Date.now();
    monitor.start();
    // The probe hangs; 0.3 s later it is stuck (SIGTERM, ignored), SIGKILL 2 s after that, then
    // one more try after a 1 s backoff, which hangs too.
    let most = 0;
    const pids = new Set<number>();
    let stuck: ReturnType<typeof monitor.status> | undefined;
    while (Date.now() - t0 < 4_500) {
      const running = processesRunning(bin);
      for (const pid of running) pids.add(pid);
      most = Math.max(most, running.length, monitor.childrenAlive());
      if (monitor.status().state === 'stuck') stuck ??= monitor.status();
      await sleep(25);
    }
    expect(most).toBe(1);
    expect(pids.size).toBeGreaterThanOrEqual(2);
    expect(stuck).toMatchObject({
      state: 'stuck',
      stuckPid: expect.any(Number),
      message: expect.stringMatching(/did not answer .*--query-gpu.* within 0.3s/),
    });
    expect(pids).toContain(stuck!.stuckPid);
    expect(monitor.gpus()).toEqual([]);
    const warnings = log.mock.calls.filter(([level]) => level === 'warn').map(([, msg]) => msg as string);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    for (const w of warnings)
      expect(w).toMatch(/no other nvidia-smi starts until it exits; GPU readings are unknown meanwhile/);
    expect(log).toHaveBeenCalledWith('info', expect.stringMatching(/the stuck nvidia-smi \(pid \d+\) exited after/));

    await monitor.stop();
    expect(processesRunning(bin)).toEqual([]);
  });

  it('treats a reading loop that goes silent as stuck, and streams again once it has exited', async () => {
    process.env.FAKE_NVIDIA_SMI_FIXTURE = 'h100-idle';
    process.env.FAKE_NVIDIA_SMI_HANG_AFTER = '3';
    const bin = ownPath(FAKE_NVIDIA_SMI);
    // Long enough for the fake (a node script) to answer its one-shot queries on a busy machine.
    const monitor = createGpuMonitor({ intervalMs: 100, nvidiaSmi: bin, answerTimeoutMs: 1500 });
    stopMonitor = () => monitor.stop();
    monitor.start();
    let loops = 0;
    const watch = () => (loops = Math.max(loops, processesRunning(bin, '-lms').length));
    await vi.waitFor(() => expect(watch() && monitor.status().state).toBe('stuck'), { timeout: 10_000, interval: 25 });
    const stuckAt = Date.now();
    expect(monitor.status().message).toMatch(/printed no reading for 1\.6s/);
    await vi.waitFor(() => expect(watch() && (monitor.latest()?.atMs ?? 0)).toBeGreaterThan(stuckAt), {
      timeout: 10_000,
      interval: 25,
    });
    expect(monitor.status().state).toBe('ok');
    expect(loops).toBe(1);
  });

  it('keeps at most the newest 30 samples when nobody drains', async () => {
    sampler = createHostSampler({ intervalMs: 5, nvidiaSmi: '/nonexistent/nvidia-smi' });
    let seen = 0;
    sampler.onSample(() => seen++);
    sampler.start();
    await vi.waitFor(() => expect(seen).toBeGreaterThan(MAX_BUFFERED_SAMPLES + 5), { timeout: 10_000 });
    await sampler.stop();

    const drained = sampler.drain();
    expect(drained).toHaveLength(MAX_BUFFERED_SAMPLES);
    expect(drained.at(-1)).toEqual(sampler.latest());
    for (let i = 1; i < drained.length; i++)
      expect(drained[i]!.timestampMs).toBeGreaterThanOrEqual(drained[i - 1]!.timestampMs);
    expect(sampler.drain()).toEqual([]);
  });

  it('leaves no nvidia-smi child behind after stop()', async () => {
    sampler = createHostSampler({ intervalMs: 100, nvidiaSmi: FAKE_NVIDIA_SMI });
    sampler.start();
    await nextSample(sampler, (x) => x.gpus.length > 0);
    expect(childrenRunning(FAKE_NVIDIA_SMI).length).toBeGreaterThan(0);

    await sampler.stop();
    expect(childrenRunning(FAKE_NVIDIA_SMI)).toEqual([]);
  });

  it('rejects a nonsensical interval with a message that says what to use', () => {
    expect(() => createHostSampler({ intervalMs: 0 })).toThrow(/positive number of milliseconds/);
  });
});

describe('describeHost', () => {
  it('names this host from node:os', async () => {
    const d = await describeHost();
    expect(d.hostname).toBe(os.hostname());
    expect(d.addresses).not.toContain('127.0.0.1');
    expect(d.host.cpuCores).toBe(os.cpus().length);
    expect(d.host.memoryTotalBytes).toBe(os.totalmem());
    expect(d.host.arch).toBe(os.arch());
    expect(d.host.kernel).toBe(os.release());
    expect(d.host.os).not.toBe('');
    if (d.mac) expect(d.mac).not.toBe('00:00:00:00:00:00');
  });
});
