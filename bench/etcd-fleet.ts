// The fleet on lowdb and on etcd, in one run (issue 14): the same simulated agents at 1 Hz, first
// against one controller on its JSON file, then against a leader controller on a real
// three-member etcd (loopback, data on tmpfs) with a second controller following on the same
// etcd. Every simulated agent dials the follower, which holds its TLS connection and relays its
// calls to the leader over one connection: the leader keeps every agent's state and session, not
// its connection. Each side: the controller idle for a few seconds (no agents), then the fleet's
// ramp and steady window; on etcd, the follower's and each member's CPU and RSS over the same
// windows, and etcd's writes a second from its /metrics. Both sides share one CA (the etcd controllers are given the first one's), so
// the agents' certificates are minted once.
import { copyFileSync } from 'node:fs';
import { controllerFiles } from '../src/core/paths.js';
import { EtcdCluster } from './etcd.js';
import { runFleetSim, SimCredentials, type FleetSimResult } from './fleet-sim.js';
import { fakeHosts, type FakeHost } from './hosts.js';
import { memoryAfterGc, ProcMonitor, removeTempDir, sleep, startController, tempDir, type ProcUsage } from './lib.js';

export interface EtcdBenchOptions {
  agents: number;
  /** Steady window of each side. */
  seconds: number;
  log: (line: string) => void;
}

/** What etcd and the standby controller did over one window. */
export interface EtcdWindow {
  standby: ProcUsage;
  /** One per member. */
  members: ProcUsage[];
  /** Keys written a second (etcd_mvcc_put_total), and raft proposals committed a second. */
  putsPerS: number;
  proposalsPerS: number;
  /** etcd's database in use (member 0) at the end, and what it grew by a second (the leader compacts every 5 min, longer than a window). */
  dbBytes: number;
  dbBytesPerS: number;
}

export interface StoreSide {
  sim: FleetSimResult;
  /** The controller over IDLE_S before the ramp, no agent connected. */
  idle: ProcUsage;
  controllerWarnings: number;
  lastWarnings: string[];
}

/** What the leader and the follower held after two full collections, idle and with the fleet on. */
export interface AfterGc {
  leader: NodeJS.MemoryUsage;
  follower: NodeJS.MemoryUsage;
}

export interface EtcdSide extends StoreSide {
  idleEtcd: EtcdWindow;
  steadyEtcd: EtcdWindow;
  afterGc: { idle: AfterGc; loaded: AfterGc };
  /** The standby still waiting at the end (it never took over during the run). */
  standbyHeld: boolean;
}

export interface EtcdBenchResult {
  agents: number;
  mintMs: number;
  lowdb: StoreSide;
  etcd: EtcdSide;
}

const IDLE_S = 3;
/** A side that runs longer is stopped (its controllers killed) and reported as failed. */
const SIDE_LIMIT_S = 90;
/** More for a larger fleet: its ramp alone dials 100 sessions a second. */
const sideLimitS = (o: EtcdBenchOptions) => Math.max(SIDE_LIMIT_S, 60 + o.seconds + o.agents / 25);
const COUNTERS = [
  'etcd_mvcc_put_total',
  'etcd_server_proposals_committed_total',
  'etcd_mvcc_db_total_size_in_use_in_bytes',
] as const;

export async function runEtcdBench(opts: EtcdBenchOptions): Promise<EtcdBenchResult> {
  const { log } = opts;
  const hosts = fakeHosts(opts.agents);
  const first = await startController({ heartbeat: '1s', grace: '30s' });
  log(`  lowdb: controller pid ${first.proc.pid} on ${first.address}`);
  let creds: SimCredentials;
  let lowdb: StoreSide;
  try {
    creds = await SimCredentials.mint(first.dataDir, hosts);
    log(`  ${hosts.length} agent certificates minted in ${(creds.mintMs / 1000).toFixed(2)} s`);
    lowdb = (await bounded('lowdb side', [first.proc], opts, () => measure(first, creds, hosts, opts))).side;
  } finally {
    await first.proc.kill();
  }
  const etcd = await etcdSide(first.dataDir, creds, hosts, opts);
  removeTempDir(first.dataDir);
  return { agents: opts.agents, mintMs: creds.mintMs, lowdb, etcd };
}

type Controller = Awaited<ReturnType<typeof startController>>;

async function etcdSide(
  caDir: string,
  creds: SimCredentials,
  hosts: readonly FakeHost[],
  opts: EtcdBenchOptions,
): Promise<EtcdSide> {
  const { log } = opts;
  const cluster = await EtcdCluster.start(3);
  const started: Controller[] = [];
  try {
    log(`  etcd: 3 members, pids ${cluster.pids.join(', ')}, clients on ${cluster.endpoints.join(',')}`);
    const args = ['--store', `etcd://${cluster.endpoints.join(',')}`];
    // Controllers on one etcd share its CA and join secret: copied before their first start.
    const dirs = [tempDir('yard-bench-lead-'), tempDir('yard-bench-standby-')];
    const from = controllerFiles(caDir);
    for (const dir of dirs) {
      const to = controllerFiles(dir);
      for (const f of ['caKey', 'caCert', 'token'] as const) copyFileSync(from[f], to[f]);
    }
    const gcProbeDir = tempDir('yard-bench-gc-');
    const leader = await startController({ heartbeat: '1s', grace: '30s', dataDir: dirs[0], args, gcProbeDir });
    started.push(leader);
    const standby = await startController({
      heartbeat: '1s',
      grace: '30s',
      dataDir: dirs[1],
      args,
      ready: /relayed to the leader/,
      gcProbeDir,
    });
    started.push(standby);
    log(
      `  etcd: leader pid ${leader.proc.pid} on ${leader.address}, follower pid ${standby.proc.pid} on ${standby.address}`,
    );
    // At the end of each window (idle, then steady): what each holds once garbage is collected.
    const afterGc: AfterGc[] = [];
    const collected = async () => ({
      leader: await memoryAfterGc(leader.proc.pid, gcProbeDir),
      follower: await memoryAfterGc(standby.proc.pid, gcProbeDir),
    });
    const watch = async () => {
      const end = await watchEtcd(cluster, standby.proc.pid);
      return async () => {
        const window = await end();
        afterGc.push(await collected());
        return window;
      };
    };
    const measured = await bounded('etcd side', [leader.proc, standby.proc], opts, () =>
      measure(leader, creds, hosts, opts, watch, standby.address),
    );
    removeTempDir(gcProbeDir);
    if (!measured.idleEtcd || !measured.steadyEtcd || afterGc.length !== 2)
      throw new Error('etcd and the follower were not watched');
    return {
      ...measured.side,
      idleEtcd: measured.idleEtcd,
      steadyEtcd: measured.steadyEtcd,
      afterGc: { idle: afterGc[0]!, loaded: afterGc[1]! },
      standbyHeld: standby.proc.running && !/elected leader/.test(standby.proc.output()),
    };
  } finally {
    await Promise.all(started.map((c) => c.proc.kill()));
    await cluster.stop();
    for (const c of started) removeTempDir(c.dataDir);
  }
}

/**
 * The controller idle for IDLE_S, then the fleet against it; `others` (the etcd side) opens a
 * watch on etcd and the standby, closed by the function it gives back, over both windows.
 */
async function measure(
  ctl: Controller,
  creds: SimCredentials,
  hosts: readonly FakeHost[],
  opts: EtcdBenchOptions,
  others?: () => Promise<() => Promise<EtcdWindow>>,
  /** Where the agents dial, when not `ctl` itself (a follower that relays to it). */
  via?: string,
): Promise<{ side: StoreSide; idleEtcd?: EtcdWindow; steadyEtcd?: EtcdWindow }> {
  const idleMon = new ProcMonitor(ctl.proc.pid);
  const idleOthers = await others?.();
  await sleep(IDLE_S * 1000);
  const idle = idleMon.stop();
  const idleEtcd = await idleOthers?.();
  let steadyEtcd: EtcdWindow | undefined;
  const sim = await runFleetSim({
    address: via ?? ctl.address,
    credentials: creds,
    control: ctl.control,
    controllerPid: ctl.proc.pid,
    hosts,
    seconds: opts.seconds,
    log: opts.log,
    alongside:
      others &&
      (async () => {
        const end = await others();
        return async () => {
          steadyEtcd = await end();
        };
      }),
  });
  return {
    side: { sim, idle, controllerWarnings: ctl.proc.warnings, lastWarnings: [...ctl.proc.lastWarnings] },
    idleEtcd,
    steadyEtcd,
  };
}

/** Opens a watch on the standby and each etcd member (CPU, RSS) and on etcd's write counters. */
async function watchEtcd(cluster: EtcdCluster, standbyPid: number): Promise<() => Promise<EtcdWindow>> {
  const before = await cluster.counters(COUNTERS);
  const t0 = performance.now();
  const standby = new ProcMonitor(standbyPid);
  const members = cluster.pids.map((pid) => new ProcMonitor(pid));
  return async () => {
    const usage = { standby: standby.stop(), members: members.map((m) => m.stop()) };
    const after = await cluster.counters(COUNTERS);
    const s = (performance.now() - t0) / 1000;
    const rate = (name: (typeof COUNTERS)[number]) => (after[name]! - before[name]!) / s;
    return {
      ...usage,
      putsPerS: rate('etcd_mvcc_put_total'),
      proposalsPerS: rate('etcd_server_proposals_committed_total'),
      dbBytes: after.etcd_mvcc_db_total_size_in_use_in_bytes!,
      dbBytesPerS: rate('etcd_mvcc_db_total_size_in_use_in_bytes'),
    };
  };
}

/** Runs `side`; past `limitS` its controllers are killed (the fleet then fails and ends) and it throws. */
async function bounded<T>(
  what: string,
  procs: readonly Controller['proc'][],
  opts: EtcdBenchOptions,
  side: () => Promise<T>,
): Promise<T> {
  const { log } = opts;
  const limitS = sideLimitS(opts);
  const t0 = performance.now();
  let over = false;
  const timer = setTimeout(() => {
    over = true;
    for (const p of procs) void p.kill(1000);
  }, limitS * 1000);
  try {
    const r = await side().catch((err: unknown) => {
      if (!over) throw err;
    });
    if (over) throw new Error(`${what} ran past ${limitS} s: its controllers were stopped`);
    return r as T;
  } finally {
    clearTimeout(timer);
    log(`  ${what}: ${((performance.now() - t0) / 1000).toFixed(0)} s of at most ${limitS}`);
  }
}
