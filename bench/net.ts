// Migration across a real-looking network (issue 13's topology, bench/net-topology.ts): the
// controller on a 100 Mbit/s link, agents bench-a and bench-b on 1 Gbit/s links, each in its own
// network namespace. In the same run, a plain TCP copy of the same bytes a → b (the agents' link)
// and a → ctl (the controller's link), then the example job with N MB of state moved bench-a →
// bench-b the way the product moves it (agent to agent), and once more with b unable to reach a
// (the relay). Optionally: the direct transfer's code with and without TLS between the same
// hosts (what TLS costs), and a job with 1 GB of rarely-changing state moved with and without
// pre-copy (downtime against the job's own save time).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packStateDir } from '../src/agent/checkpoint/archive.js';
import { controlClient } from '../src/cli/client.js';
import { newTicketSecret, ticketDigest } from '../src/core/transfer-ticket.js';
import { MigrationStrategy, RestartPolicy, type WorkloadSpec } from '../src/core/workload.js';
import { cpuSeconds, removeTempDir, sleep, tempDir, YARD, YardProcess } from './lib.js';
import { type Moved, moveCounter, stopCounter } from './migration.js';
import { buildNetTopology, type HostName, LINKS, type NetTopology, tbfStats } from './net-topology.js';
import { peerCredentials } from './peer-creds.js';
import type { PeerCopySetup } from './peer-copy.js';

const SINK = resolve(import.meta.dirname, 'tcp-sink.js');
const SOURCE = resolve(import.meta.dirname, 'tcp-source.js');
const PEER_COPY = resolve(import.meta.dirname, 'peer-copy.js');
const PRECOPY_JOB = resolve(import.meta.dirname, 'precopy-job.js');
const MiB = 1024 * 1024;
/** The controller's port on its host (the namespace is ours: nothing else listens there). */
const CONTROLLER_PORT = 7077;

export interface PlainCopy {
  from: HostName;
  to: HostName;
  bytes: number;
  /** Each copy, connect to the sink's answer. */
  ms: number[];
}

export interface NetMigrationResult {
  stateMb: number;
  /** a → b, then a → ctl. */
  plain: PlainCopy[];
  /** Undefined when the move failed before it ended (see error). */
  moved?: Moved;
  error?: string;
  /** The controller's CPU with both agents connected and nothing moving (heartbeats, metrics): seconds over windowMs. */
  ctlIdle?: { cpuS: number; windowMs: number };
  /** The controller's link while the job moved (tc's counters): bytes it received and sent, packets its two tbfs dropped. */
  ctlLink?: { inBytes: number; outBytes: number; dropped: number };
  /** The same move with bench-b unable to reach bench-a (a prohibit route): the relay fallback. */
  relayed?: { moved: Moved; ctlLink: { inBytes: number; outBytes: number; dropped: number } };
  /** The direct transfer's code a → b with TLS and without (bench-only plaintext), same archive. */
  peerCopy?: PeerCopyResult;
  /** The pre-copy job moved without and with pre-copy, in the same topology. */
  precopy?: { off?: PrecopyMove; on?: PrecopyMove; error?: string };
  shaping: string[];
  /** The payload rate a TCP copy can reach on each host's link: tbf counts whole frames, 1448 of 1514 bytes are data. */
  ceilingBps: Record<HostName, number>;
  warnings: string[];
}

export interface PeerCopyResult {
  bytes: number;
  /** Each transfer, connect to the last byte unpacked and checked (ms), and the target's CPU (ms). */
  tls: { ms: number; cpuMs: number }[];
  plain: { ms: number; cpuMs: number }[];
  error?: string;
}

export interface PrecopyMove {
  moved: Moved;
  /** The job's own save (rewriting 5 % of its state), as it measured it. */
  saveMs: number;
  /** The restored job checked every file against its manifest. */
  verified: boolean;
  /** Its line after the restore ("resumed at n=…: verified …"). */
  resumed: string;
}

export interface NetOptions {
  stateMb: number;
  /** Also the relay fallback and the a → ctl copy (≈ 20 s per 200 MB each over 100 Mbit/s). */
  relay: boolean;
  /** Also the TLS cost: the direct transfer's code with and without TLS, a → b. */
  tlsCost: boolean;
  /** Also the pre-copy job (PRECOPY_FILES × PRECOPY_FILE_MB) moved with and without pre-copy. */
  precopy: boolean;
  log: (line: string) => void;
}

/** The pre-copy job's state: 20 files of 50 MB (1000 MB), one rewritten per save (5 %). */
const PRECOPY_FILES = 20;
const PRECOPY_FILE_MB = 50;

export async function runNetMigration(opts: NetOptions): Promise<NetMigrationResult> {
  const topo = buildNetTopology();
  try {
    opts.log(
      `  network: ${Object.values(topo.hosts)
        .map((h) => `${h.name} ${h.address} (${h.ns})`)
        .join(', ')}`,
    );
    const bytes = Math.round(opts.stateMb * MiB);
    // Runs bounded by the slow link: 200 MB over 100 Mbit/s is 17.5 s a copy.
    const plain = [await plainCopies(topo, 'a', 'b', bytes, 3, opts.log)];
    if (opts.relay) plain.push(await plainCopies(topo, 'a', 'ctl', bytes, opts.stateMb <= 300 ? 2 : 1, opts.log));
    const peerCopy = opts.tlsCost
      ? await peerCopies(topo, bytes, 2, opts.log).catch((err: unknown) => ({
          bytes,
          tls: [],
          plain: [],
          error: err instanceof Error ? err.message : String(err),
        }))
      : undefined;
    // A failed move still reports the plain copies: they are the link's figures.
    const move = await moveAcross(topo, opts).catch((err: unknown) => ({
      error: err instanceof Error ? err.message : String(err),
      warnings: [],
    }));
    const ceilingBps = { ctl: ceiling('ctl'), a: ceiling('a'), b: ceiling('b') };
    return { stateMb: opts.stateMb, plain, peerCopy, shaping: topo.shaping, ceilingBps, ...move };
  } finally {
    topo.destroy();
  }
}

/** `runs` copies of `bytes` from a tcp-source in `from` to a tcp-sink in `to`. */
async function plainCopies(
  topo: NetTopology,
  from: HostName,
  to: HostName,
  bytes: number,
  runs: number,
  log: (line: string) => void,
): Promise<PlainCopy> {
  const dst = topo.hosts[to];
  log(`  plain TCP copy of ${(bytes / MiB).toFixed(0)} MB ${from} → ${to}, ${runs}×…`);
  const sink = new YardProcess(`tcp sink in ${to}`, [String(bytes), dst.address], SINK, dst.wrap);
  try {
    const port = (await sink.waitForOutput(/listening (\d+)/, 10_000))[1]!;
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const source = new YardProcess(
        `tcp source in ${from}`,
        [dst.address, port, String(bytes)],
        SOURCE,
        topo.hosts[from].wrap,
      );
      try {
        ms.push(Number((await source.waitForOutput(/copied \d+ in ([\d.]+) ms/, 610_000))[1]));
      } finally {
        await source.kill();
      }
    }
    return { from, to, bytes, ms };
  } finally {
    await sink.kill();
  }
}

/** A controller in `ctl`, agents bench-a in `a` and bench-b in `b`, and the example job moved a → b. */
async function moveAcross(
  topo: NetTopology,
  opts: NetOptions,
): Promise<Pick<NetMigrationResult, 'moved' | 'ctlIdle' | 'ctlLink' | 'relayed' | 'precopy' | 'warnings'>> {
  const { ctl, a, b } = topo.hosts;
  const name = `bench-net-counter-${opts.stateMb}`;
  const dirs = {
    ctl: tempDir('yard-bench-net-ctl-'),
    a: tempDir('yard-bench-net-a-'),
    b: tempDir('yard-bench-net-b-'),
  };
  const address = `${ctl.address}:${CONTROLLER_PORT}`;
  const controller = new YardProcess(
    'controller',
    [
      'controller',
      '--data-dir',
      dirs.ctl,
      '--listen',
      address,
      '--heartbeat',
      '1s',
      '--grace',
      '30s',
      '--verify',
      '1s',
      '--cpu-limit',
      '100',
      '--max-checkpoint',
      '4GiB',
    ],
    YARD,
    ctl.wrap,
  );
  const agentArgs = (dir: string, host: string) => [
    'agent',
    '--controller',
    address,
    '--token-file',
    join(dirs.ctl, 'join-token'),
    '--data-dir',
    dir,
    '--name',
    host,
    '--nvidia-smi',
    '/nonexistent',
  ];
  const agents: YardProcess[] = [];
  const workloadPids = new Set<number>();
  // AF_UNIX is not namespaced: the Control API's socket in the controller's data dir is reachable from here.
  const api = controlClient({ address: `unix:${join(dirs.ctl, 'control.sock')}`, from: 'bench' }, 30_000);
  try {
    await controller.waitForOutput(/controller listening/, 20_000);
    agents.push(
      new YardProcess('agent bench-a', agentArgs(dirs.a, 'bench-a'), YARD, a.wrap),
      new YardProcess('agent bench-b', agentArgs(dirs.b, 'bench-b'), YARD, b.wrap),
    );
    await Promise.all(agents.map((p) => p.waitForOutput(/connected to controller/, 30_000)));
    const ctlIdle = await idleCpu(controller.pid, IDLE_WINDOW_MS);
    const before = tbfStats(topo, 'ctl');
    const moved = await moveCounter({
      api,
      name,
      stateMb: opts.stateMb,
      // The whole archive after the save: what the direct path itself moves (pre-copy has rows of its own).
      precopy: false,
      pids: { controller: controller.pid, source: agents[0]!.pid, target: agents[1]!.pid },
      controllerAddress: address,
      targetDir: dirs.b,
      // Today the bytes cross the 100 Mbit/s link twice (≈ 11.4 MB/s each way), one pass after the other.
      timeoutMs: 60_000 + opts.stateMb * 500,
      workloadPids,
      log: opts.log,
    });
    const ctlLink = link(before, tbfStats(topo, 'ctl'));
    // The job is gone from bench-a: its state and archive no longer take disk the next moves need.
    await api.call(api.client.stopWorkload, { name, remove: true }).catch(() => undefined);
    const others = { api, controller, agents, address, dirs, workloadPids };
    const precopy = opts.precopy ? await precopyMoves(others, opts.log) : undefined;
    const relayed = opts.relay ? await relayMove(topo, others, opts) : undefined;
    return {
      moved,
      ctlIdle,
      ctlLink,
      relayed,
      precopy,
      warnings: [controller, ...agents].flatMap((p) => p.lastWarnings.map((w) => `${p.label}: ${w}`)),
    };
  } finally {
    await stopCounter(api, name, workloadPids, async () => {
      await Promise.all(agents.map((p) => p.kill()));
      await controller.kill();
    });
    for (const dir of Object.values(dirs)) removeTempDir(dir);
  }
}

/** What the moves after the first share: the cluster the first one started. */
interface Cluster {
  api: ReturnType<typeof controlClient>;
  controller: YardProcess;
  agents: YardProcess[];
  address: string;
  dirs: { ctl: string; a: string; b: string };
  workloadPids: Set<number>;
}

/** The fallback: bench-b cannot reach bench-a (as behind NAT or a firewall), so the same move relays. */
async function relayMove(topo: NetTopology, c: Cluster, opts: NetOptions): Promise<NetMigrationResult['relayed']> {
  const { api, controller, agents, address, dirs, workloadPids } = c;
  const { a, b } = topo.hosts;
  const name = `bench-net-counter-${opts.stateMb}`;
  execFileSync('ip', ['-n', b.ns, 'route', 'add', 'prohibit', `${a.address}/32`]);
  try {
    const beforeRelay = tbfStats(topo, 'ctl');
    const relayMoved = await moveCounter({
      api,
      name: `${name}-relay`,
      stateMb: opts.stateMb,
      precopy: false,
      pids: { controller: controller.pid, source: agents[0]!.pid, target: agents[1]!.pid },
      controllerAddress: address,
      targetDir: dirs.b,
      timeoutMs: 60_000 + opts.stateMb * 500,
      workloadPids,
      log: opts.log,
    });
    return { moved: relayMoved, ctlLink: link(beforeRelay, tbfStats(topo, 'ctl')) };
  } finally {
    execFileSync('ip', ['-n', b.ns, 'route', 'del', 'prohibit', `${a.address}/32`]);
    await api.call(api.client.stopWorkload, { name: `${name}-relay`, remove: true }).catch(() => undefined);
  }
}

/** How long the controller is watched with nothing moving, for its cost at rest. */
const IDLE_WINDOW_MS = 5000;

/** A process's CPU seconds over `windowMs` of waiting (agents connected, nothing moving). */
async function idleCpu(pid: number, windowMs: number): Promise<{ cpuS: number; windowMs: number } | undefined> {
  // A few seconds in, once the agents' first reports are handled.
  await sleep(2000);
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(windowMs);
  const c1 = cpuSeconds(pid);
  return c0 === undefined || c1 === undefined ? undefined : { cpuS: c1 - c0, windowMs: performance.now() - t0 };
}

/** The controller's link between two tbfStats readings: bytes it received and sent, packets dropped. */
function link(from: ReturnType<typeof tbfStats>, to: ReturnType<typeof tbfStats>) {
  return {
    inBytes: to[1]!.sentBytes - from[1]!.sentBytes,
    outBytes: to[0]!.sentBytes - from[0]!.sentBytes,
    dropped: to[0]!.dropped + to[1]!.dropped - from[0]!.dropped - from[1]!.dropped,
  };
}

/**
 * The pre-copy job (1 GB of random bytes in 20 files) moved bench-a → bench-b twice, without
 * pre-copy and then with it: on the checkpoint signal it rewrites one file (5 %), so with
 * pre-copy only that file should cross after the signal. Each job is removed after its move
 * (its gigabyte freed before the next one is written).
 */
async function precopyMoves(
  c: Cluster,
  log: (line: string) => void,
): Promise<NonNullable<NetMigrationResult['precopy']>> {
  const out: NonNullable<NetMigrationResult['precopy']> = {};
  try {
    for (const precopy of [false, true]) {
      const name = `bench-net-precopy-${precopy ? 'on' : 'off'}`;
      log(
        `  pre-copy job ${precopy ? 'with' : 'without'} pre-copy: ${PRECOPY_FILES} × ${PRECOPY_FILE_MB} MB of random bytes…`,
      );
      try {
        const moved = await moveCounter({
          api: c.api,
          name,
          stateMb: PRECOPY_FILES * PRECOPY_FILE_MB,
          spec: precopySpec(name),
          startMs: 120_000,
          precopy,
          pids: { controller: c.controller.pid, source: c.agents[0]!.pid, target: c.agents[1]!.pid },
          controllerAddress: c.address,
          targetDir: c.dirs.b,
          timeoutMs: 600_000,
          workloadPids: c.workloadPids,
          log,
        });
        const resumed = await resumedLine(join(c.dirs.b, 'workloads', name, 'output.log'));
        const verified = new RegExp(`verified ${PRECOPY_FILES} files`).test(resumed);
        const saveMs = Number(/last save (\d+) ms/.exec(resumed)?.[1] ?? Number.NaN);
        out[precopy ? 'on' : 'off'] = { moved, saveMs, verified, resumed };
      } finally {
        await c.api.call(c.api.client.stopWorkload, { name, remove: true }).catch(() => undefined);
      }
    }
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
  }
  return out;
}

function precopySpec(name: string): WorkloadSpec {
  return {
    name,
    command: process.execPath,
    args: [PRECOPY_JOB],
    env: { PRECOPY_JOB_FILES: String(PRECOPY_FILES), PRECOPY_JOB_FILE_MB: String(PRECOPY_FILE_MB) },
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 120_000,
    ports: [],
  };
}

/** The restored job's "resumed at …" line (it checks 1 GB first: a few seconds at most), or ''. */
async function resumedLine(file: string): Promise<string> {
  for (let i = 0; i < 120; i++) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not there yet
    }
    const line = /resumed at n=.*|precopy-job: .*/.exec(text)?.[0];
    if (line) return line;
    await sleep(250);
  }
  return '';
}

/**
 * What TLS costs the direct transfer: one archive of `bytes` served from bench-a's disk by the
 * transfer code and unpacked on bench-b, `runs` times with TLS and `runs` times without, taking
 * turns. The archive is made once from a state dir of non-repeating bytes.
 */
async function peerCopies(
  topo: NetTopology,
  bytes: number,
  runs: number,
  log: (line: string) => void,
): Promise<PeerCopyResult> {
  const { a, b } = topo.hosts;
  const dir = tempDir('yard-bench-net-peer-');
  const servers: YardProcess[] = [];
  try {
    const state = join(dir, 'state');
    writeStateDir(state, bytes);
    const archive = join(dir, 'ckpt.tar');
    const packed = await packStateDir(state, archive, { maxBytes: 2 * bytes + 1024 * 1024 });
    rmSync(state, { recursive: true, force: true });
    const creds = await peerCredentials({ source: 'bench-a', target: 'bench-b' });
    const secret = newTicketSecret();
    const setup: PeerCopySetup = { ...creds, secret, digest: ticketDigest(secret), ...packed };
    const setupFile = join(dir, 'setup.json');
    writeFileSync(setupFile, JSON.stringify(setup), { mode: 0o600 });
    log(`  the transfer code a → b with and without TLS, ${(packed.size / MiB).toFixed(0)} MB, ${runs}× each…`);
    const ports: Record<'tls' | 'plain', string> = { tls: '', plain: '' };
    for (const mode of ['tls', 'plain'] as const) {
      const server = new YardProcess(
        `peer-copy ${mode} source in a`,
        ['serve', mode, setupFile, archive, a.address],
        PEER_COPY,
        a.wrap,
      );
      servers.push(server);
      ports[mode] = (await server.waitForOutput(/listening (\d+)/, 10_000))[1]!;
    }
    const result: PeerCopyResult = { bytes: packed.size, tls: [], plain: [] };
    const dest = join(dir, 'target', 'state');
    for (let i = 0; i < runs; i++)
      for (const mode of ['tls', 'plain'] as const) {
        rmSync(dest, { recursive: true, force: true });
        const fetch = new YardProcess(
          `peer-copy ${mode} target in b`,
          ['fetch', mode, setupFile, a.address, ports[mode], dest],
          PEER_COPY,
          b.wrap,
        );
        try {
          const m = await fetch.waitForOutput(/fetched (\d+) in ([\d.]+) ms, cpu (\d+) ms/, 300_000);
          if (Number(m[1]) !== packed.size)
            throw new Error(`peer-copy ${mode} fetched ${m[1]} of ${packed.size} bytes`);
          result[mode].push({ ms: Number(m[2]), cpuMs: Number(m[3]) });
        } finally {
          await fetch.kill();
        }
      }
    return result;
  } finally {
    await Promise.all(servers.map((s) => s.kill()));
    removeTempDir(dir);
  }
}

/** `bytes` in four files of bytes that do not repeat (so nothing on the path can shortcut them). */
function writeStateDir(dir: string, bytes: number): void {
  mkdirSync(dir, { recursive: true });
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const per = Math.ceil(bytes / 4 / MiB);
  for (let f = 0; f < 4; f++) {
    const fd = openSync(join(dir, `shard-${f}.bin`), 'w', 0o600);
    try {
      for (let i = 0; i < per; i++) {
        block.writeUInt32LE(f * 1_000_000 + i, 0);
        writeSync(fd, block);
      }
    } finally {
      closeSync(fd);
    }
  }
}

const ceiling = (host: HostName) => (LINKS[host].rateBps * 1448) / 1514;
