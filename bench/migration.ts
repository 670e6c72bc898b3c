// Migration: a real controller and two real agents on 127.0.0.1 move the example job
// (examples/checkpoint-counter.mjs) with N MB of state from bench-a to bench-b — checkpoint,
// upload to the controller, download to the target, restore, verify — and the same bytes are
// then copied over a plain TCP socket on loopback, for the rate the transfer could have had.
import { createReadStream, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { controlClient } from '../src/cli/client.js';
import {
  MigrationStrategy,
  RestartPolicy,
  migrationDone,
  migrationPhases,
  type Migration,
  type WorkloadSpec,
} from '../src/core/workload.js';
import type { WatchMigrationResponse } from '../src/gen/switchyard/v1/control.js';
import { ServerState } from '../src/gen/switchyard/v1/fleet.js';
import {
  cpuSeconds,
  machineBusySeconds,
  removeTempDir,
  sleep,
  startController,
  tempDir,
  waitUntil,
  YardProcess,
} from './lib.js';

const COUNTER = resolve(import.meta.dirname, '../../examples/checkpoint-counter.mjs');
const SINK = resolve(import.meta.dirname, 'tcp-sink.js');
const MiB = 1024 * 1024;

export interface MigrationOptions {
  /** COUNTER_STATE_MB: the checkpoint's padding, in MiB. */
  stateMb: number;
  log: (line: string) => void;
}

/** Milliseconds after the migration was created (controller clock = ours: same host). */
export interface Timeline {
  checkpointing?: number;
  transferring?: number;
  /** The controller has the upload's last chunk. */
  uploadDone?: number;
  /** The controller sent the download's first chunk. */
  downloadFirst?: number;
  /** The controller sent the download's last chunk. */
  downloadSent?: number;
  restoring?: number;
  verifying?: number;
  end?: number;
  /** The target's copy printed "resumed at" (it has loaded and checked its state). */
  resumed?: number;
}

/** CPU over an interval, percent of one core. */
export interface CpuSplit {
  controller: number;
  source: number;
  target: number;
  /** The whole machine (context: were other processes busy?). */
  machine: number;
}

export interface MigrationResult {
  stateMb: number;
  phase: string;
  error: string;
  /** How the checkpoint moved: direct (agent to agent) or relay (through the controller). */
  transferPath: string;
  checkpointMs: number;
  transferMs: number;
  transferBytes: number;
  restoreMs: number;
  verifyMs: number;
  downtimeMs: number;
  timeline: Timeline;
  cpuUpload?: CpuSplit;
  cpuDownload?: CpuSplit;
  /** The whole transfer phase, whatever path the bytes take: from the first progress update to the restore. */
  cpuTransfer?: CpuSplit & { windowMs: number };
  /** What the record says of pre-copy (issue 13): whether it ran, its rounds, bytes and time. */
  precopy?: { performed: boolean; rounds: number; bytes: number; bytesSaved: number; ms: number };
  /** Plain TCP copies of transferBytes over loopback (ms each). */
  plainMs: number[];
  plainBytes: number;
  warnings: string[];
}

function spec(name: string, stateMb: number): WorkloadSpec {
  return {
    name,
    command: process.execPath,
    args: [COUNTER],
    env: { COUNTER_STATE_MB: String(stateMb) },
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    // Writing (and fsyncing) a GB of state takes seconds.
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 120_000,
    ports: [],
  };
}

export async function runMigration(opts: MigrationOptions): Promise<MigrationResult> {
  const name = `bench-counter-${opts.stateMb}`;
  const dirs = {
    a: tempDir('yard-bench-mig-a-'),
    b: tempDir('yard-bench-mig-b-'),
    plain: tempDir('yard-bench-mig-tcp-'),
  };
  const ctl = await startController({ args: ['--verify', '1s', '--cpu-limit', '100', '--max-checkpoint', '4GiB'] });
  const agentArgs = (dir: string, host: string) => [
    'agent',
    '--controller',
    ctl.address,
    '--token-file',
    ctl.joinTokenFile,
    '--data-dir',
    dir,
    '--name',
    host,
    '--nvidia-smi',
    '/nonexistent',
  ];
  const agents = {
    a: new YardProcess('agent bench-a', agentArgs(dirs.a, 'bench-a')),
    b: new YardProcess('agent bench-b', agentArgs(dirs.b, 'bench-b')),
  };
  const api = controlClient({ address: ctl.control, from: 'bench' }, 30_000);
  const workloadPids = new Set<number>();
  let result: MigrationResult | undefined;
  try {
    await Promise.all([
      agents.a.waitForOutput(/connected to controller/, 30_000),
      agents.b.waitForOutput(/connected to controller/, 30_000),
    ]);
    const moved = await moveCounter({
      api,
      name,
      stateMb: opts.stateMb,
      // The whole checkpoint after the save, as this step has always measured it.
      precopy: false,
      pids: { controller: ctl.proc.pid, source: agents.a.pid, target: agents.b.pid },
      controllerAddress: ctl.address,
      targetDir: dirs.b,
      timeoutMs: 60_000 + opts.stateMb * 100,
      workloadPids,
      log: opts.log,
    });
    result = {
      ...moved,
      plainMs: [],
      plainBytes: moved.transferBytes,
      warnings: [ctl.proc, agents.a, agents.b].flatMap((p) => p.lastWarnings.map((w) => `${p.label}: ${w}`)),
    };
  } finally {
    await stopCounter(api, name, workloadPids, async () => {
      await Promise.all([agents.a.kill(), agents.b.kill()]);
      await ctl.proc.kill();
    });
    removeTempDir(dirs.a);
    removeTempDir(dirs.b);
    removeTempDir(ctl.dataDir);
  }

  // The baseline, with the cluster gone: the same byte count over a plain socket, from a file in
  // the page cache (just written), best of two.
  try {
    const file = join(dirs.plain, 'payload.bin');
    await writeFileOf(file, result.plainBytes);
    opts.log(`  plain TCP copy of ${(result.plainBytes / MiB).toFixed(1)} MB on 127.0.0.1…`);
    result.plainMs = await plainCopies(file, result.plainBytes, 2);
  } finally {
    removeTempDir(dirs.plain);
  }
  return result;
}

type Api = ReturnType<typeof controlClient>;

/** What moving the example job measured (the plain copy and the processes' warnings are the caller's). */
export type Moved = Omit<MigrationResult, 'plainMs' | 'plainBytes' | 'warnings'>;

/**
 * With a controller and agents bench-a and bench-b connected: waits for both to report metrics
 * (preflight wants the target's CPU and free disk), runs the example job with `stateMb` of state
 * on bench-a, and once it makes progress moves it to bench-b, following the migration to its end.
 * The pids the job ran under are added to `workloadPids` (for stopCounter).
 */
export async function moveCounter(o: {
  api: Api;
  name: string;
  stateMb: number;
  pids: { controller: number; source: number; target: number };
  /** Where the controller listens (for the log). */
  controllerAddress: string;
  /** bench-b's --data-dir: the resumed copy's output log is read there. */
  targetDir: string;
  timeoutMs: number;
  workloadPids: Set<number>;
  log: (line: string) => void;
  /** Another job than the example counter (it must print "progress n=N" and, restored, "resumed at n=N"). */
  spec?: WorkloadSpec;
  /** How long the job may take to make progress after it starts (default 30 s). */
  startMs?: number;
  /** StartMigrationRequest.precopy; unset leaves the controller's default. */
  precopy?: boolean;
}): Promise<Moved> {
  const { api, name } = o;
  await waitUntil(
    'bench-a and bench-b online, with metrics',
    async () => {
      const servers = await api.servers();
      const ready = servers
        .filter(
          (s) =>
            s.state === ServerState.SERVER_STATE_ONLINE &&
            s.latest?.cpuPct !== undefined &&
            s.latest.dataFreeBytes !== undefined,
        )
        .map((s) => s.name);
      return ready.includes('bench-a') && ready.includes('bench-b') ? true : undefined;
    },
    30_000,
    200,
  );
  o.log(
    `  controller pid ${o.pids.controller} on ${o.controllerAddress}; agents ${o.pids.source} (bench-a), ${o.pids.target} (bench-b)`,
  );

  await api.call(api.client.runWorkload, { server: 'bench-a', spec: o.spec ?? spec(name, o.stateMb) });
  await waitUntil(
    `${name} making progress`,
    async () => (/progress n=\d+/.test(await logs(api, name)) ? true : undefined),
    o.startMs ?? 30_000,
    250,
  );
  await notePids(api, name, o.workloadPids);

  const started = (
    await api.call(api.client.startMigration, {
      workload: name,
      target: 'bench-b',
      strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      precopy: o.precopy,
    })
  ).migration!;
  o.log(`  migration ${started.id.slice(0, 8)}: ${o.stateMb} MB of state, bench-a → bench-b…`);
  const watched = await watch(api, started, o.pids, join(o.targetDir, 'workloads', name, 'output.log'), o.timeoutMs);
  const m = watched.last;
  await notePids(api, name, o.workloadPids);
  const t = m.timings;
  return {
    stateMb: o.stateMb,
    phase: migrationPhases.name(m.phase),
    error: m.error,
    transferPath: m.transferPath,
    checkpointMs: t?.checkpointMs ?? Number.NaN,
    transferMs: t?.transferMs ?? Number.NaN,
    transferBytes: t?.transferBytes || Math.round(o.stateMb * MiB),
    restoreMs: t?.restoreMs ?? Number.NaN,
    verifyMs: t?.verifyMs ?? Number.NaN,
    downtimeMs: t?.downtimeMs ?? Number.NaN,
    timeline: watched.timeline,
    cpuUpload: watched.cpuUpload,
    cpuDownload: watched.cpuDownload,
    cpuTransfer: watched.cpuTransfer,
    precopy: {
      performed: m.precopy,
      rounds: t?.precopyRounds ?? 0,
      bytes: t?.precopyBytes ?? 0,
      bytesSaved: t?.bytesSaved ?? 0,
      ms: t?.precopyMs ?? Number.NaN,
    },
  };
}

/** Stops and removes the job, closes `api`, runs `stopProcesses`, then SIGKILLs any copy of the job still there. */
export async function stopCounter(
  api: Api,
  name: string,
  workloadPids: Set<number>,
  stopProcesses: () => Promise<void>,
): Promise<void> {
  // The workload goes first (stopping the agents would stop it too, but a SIGKILLed agent would not).
  await api.call(api.client.stopWorkload, { name, remove: true }).catch(() => undefined);
  api.close();
  await stopProcesses();
  for (const pid of workloadPids) killIfCounter(pid);
}

async function notePids(api: Api, name: string, pids: Set<number>): Promise<void> {
  for (const w of (await api.call(api.client.listWorkloads, {})).workloads)
    if (w.spec?.name === name && w.pid) pids.add(w.pid);
}

/** The workload's output buffer as text (empty if it is not there). */
function logs(api: Api, name: string): Promise<string> {
  return new Promise((res) => {
    let out = '';
    const stream = api.client.logs({ name, follow: false, tailBytes: 0 }, api.metadata);
    stream.on('data', (r: { data: Buffer }) => (out += Buffer.from(r.data).toString()));
    stream.on('end', () => res(out));
    stream.on('error', () => res(out));
  });
}

/**
 * Follows the migration (WatchMigration) to its end: when each phase began (the controller's
 * stamp), when the upload's last byte and the download's first and last bytes went by (from the
 * progress updates), CPU of the three processes over the upload and the download, and when the
 * target's copy says it resumed (its output log, polled).
 */
async function watch(
  api: Api,
  first: Migration,
  pids: { controller: number; source: number; target: number },
  targetLog: string,
  timeoutMs: number,
) {
  const t0 = first.createdMs;
  const timeline: Timeline = {};
  const cpuAt: Partial<
    Record<
      'transferring' | 'uploadDone' | 'downloadFirst' | 'downloadSent' | 'restoring',
      { at: number; cpu: CpuSplit }
    >
  > = {};
  const mark = (k: keyof typeof cpuAt) => {
    if (cpuAt[k]) return;
    cpuAt[k] = {
      at: performance.now(),
      cpu: {
        controller: cpuSeconds(pids.controller) ?? Number.NaN,
        source: cpuSeconds(pids.source) ?? Number.NaN,
        target: cpuSeconds(pids.target) ?? Number.NaN,
        machine: machineBusySeconds(),
      },
    };
  };
  const phaseKeys: Record<string, keyof Timeline> = {
    checkpointing: 'checkpointing',
    transferring: 'transferring',
    restoring: 'restoring',
    verifying: 'verifying',
  };
  let last = first;
  let resumeWatch: Promise<void> | undefined;
  let stopResumeWatch = false;

  const ended = new Promise<void>((res, rej) => {
    const stream = api.client.watchMigration({ id: first.id }, api.metadata);
    const timer = setTimeout(() => {
      stream.cancel();
      rej(
        new Error(
          `migration ${first.id} did not end within ${(timeoutMs / 1000).toFixed(0)} s (phase ${migrationPhases.name(last.phase)})`,
        ),
      );
    }, timeoutMs);
    stream.on('data', (r: WatchMigrationResponse) => {
      const m = r.migration;
      if (!m) return;
      last = m;
      const phase = migrationPhases.name(m.phase);
      const key = phaseKeys[phase];
      if (key && timeline[key] === undefined) timeline[key] = m.updatedMs - t0;
      if (phase === 'transferring') {
        mark('transferring');
        const half = m.bytesTotal / 2;
        const now = Date.now() - t0;
        if (m.bytesTotal > 0 && m.bytesDone >= half && timeline.uploadDone === undefined) {
          timeline.uploadDone = now;
          mark('uploadDone');
        }
        if (m.bytesTotal > 0 && m.bytesDone > half && timeline.downloadFirst === undefined) {
          timeline.downloadFirst = now;
          mark('downloadFirst');
        }
        if (m.bytesTotal > 0 && m.bytesDone >= m.bytesTotal && timeline.downloadSent === undefined) {
          timeline.downloadSent = now;
          mark('downloadSent');
        }
      }
      if (phase === 'restoring') mark('restoring');
      if (phase === 'restoring' && !resumeWatch) resumeWatch = pollResumed();
      if (migrationDone(m.phase)) {
        timeline.end = m.updatedMs - t0;
        clearTimeout(timer);
        res();
      }
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      rej(err);
    });
    stream.on('end', () => {
      clearTimeout(timer);
      if (migrationDone(last.phase)) res();
      else rej(new Error(`WatchMigration ended in phase ${migrationPhases.name(last.phase)}`));
    });
  });

  async function pollResumed(): Promise<void> {
    // Bounded: 60 s after the restore began, or until the caller stops waiting.
    for (let i = 0; i < 60_000 / 25 && !stopResumeWatch; i++) {
      let text = '';
      try {
        text = readFileSync(targetLog, 'utf8');
      } catch {
        // not there yet
      }
      if (/resumed at n=\d+/.test(text)) {
        timeline.resumed = Date.now() - t0;
        return;
      }
      await sleep(25);
    }
  }
  try {
    await ended;
    if (resumeWatch && migrationPhases.name(last.phase) === 'committed') await resumeWatch;
  } finally {
    stopResumeWatch = true;
    await resumeWatch;
  }

  const pct = (a?: { at: number; cpu: CpuSplit }, b?: { at: number; cpu: CpuSplit }): CpuSplit | undefined => {
    if (!a || !b || b.at <= a.at) return undefined;
    const s = (b.at - a.at) / 1000;
    const p = (k: keyof CpuSplit) => ((b.cpu[k] - a.cpu[k]) / s) * 100;
    return { controller: p('controller'), source: p('source'), target: p('target'), machine: p('machine') };
  };
  return {
    last,
    timeline,
    cpuUpload: pct(cpuAt.transferring, cpuAt.uploadDone),
    cpuDownload: pct(cpuAt.downloadFirst, cpuAt.downloadSent),
    cpuTransfer: withWindow(pct(cpuAt.transferring, cpuAt.restoring), cpuAt.transferring, cpuAt.restoring),
  };
}

function withWindow(
  split: CpuSplit | undefined,
  a?: { at: number },
  b?: { at: number },
): (CpuSplit & { windowMs: number }) | undefined {
  return split && a && b ? { ...split, windowMs: b.at - a.at } : undefined;
}

/** SIGKILL to a pid we saw run a bench workload, if it is still that (pids get reused). */
function killIfCounter(pid: number): void {
  try {
    if (!/checkpoint-counter|precopy-job/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** A file of `bytes` bytes (written through the page cache, which it stays in). */
async function writeFileOf(file: string, bytes: number): Promise<void> {
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const fh = await open(file, 'w');
  try {
    for (let left = bytes; left > 0; left -= chunk.length) await fh.write(chunk, 0, Math.min(left, chunk.length));
  } finally {
    await fh.close();
  }
}

/** `runs` copies of `file` to a tcp-sink process on 127.0.0.1, each timed from connect to the sink's ack. */
async function plainCopies(file: string, bytes: number, runs: number): Promise<number[]> {
  const sink = new YardProcess('tcp sink', [String(bytes)], SINK);
  try {
    const port = Number((await sink.waitForOutput(/listening (\d+)/, 10_000))[1]);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await copyOnce(file, port));
    return times;
  } finally {
    await sink.kill();
  }
}

function copyOnce(file: string, port: number): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const sock = connect({ host: '127.0.0.1', port });
    const input = createReadStream(file, { highWaterMark: MiB });
    let finished = false;
    const done = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      input.destroy();
      sock.destroy();
      if (err) rej(err);
      else res(performance.now() - t0);
    };
    const timer = setTimeout(() => done(new Error('plain TCP copy took over 60 s')), 60_000);
    sock.once('connect', () => input.pipe(sock, { end: false }));
    sock.once('data', () => done());
    sock.once('error', done);
    sock.once('close', () => done(new Error('the sink closed before it had every byte')));
    input.once('error', done);
  });
}
