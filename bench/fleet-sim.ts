// Fleet simulator: N agent sessions over the real protocol against a real controller process.
import {
  credentials,
  Metadata,
  type ChannelCredentials,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CertificateAuthority } from '../src/controller/pki/certificate-authority.js';
import { issueAgentCertificate } from '../src/controller/pki/client-certificates.js';
import { controllerFiles } from '../src/core/paths.js';
import { newKeyPair, privateKeyPem } from '../src/core/pki/x509.js';
import { CLIENT_OPTIONS } from '../src/core/rpc/options.js';
import { WorkloadState, type Workload } from '../src/core/workload.js';
import {
  AgentGatewayClient,
  CommandResult,
  ConnectRequest,
  type AgentCommand,
  type ConnectResponse,
} from '../src/gen/switchyard/v1/agent_gateway.js';
import type { FakeHost } from './hosts.js';
import type { ListClientReport } from './list-client.js';
import { ProcMonitor, runNode, sleep, summarize, type ProcUsage, type Summary } from './lib.js';

const LIST_CLIENT = resolve(import.meta.dirname, 'list-client.js');

/**
 * How the simulated agents dial the controller: each with a client certificate for its own
 * server id (mTLS, as real agents do once joined), or in plaintext (the tls step's baseline,
 * against a controller started with `benchmarkPlaintext`).
 */
export class SimCredentials {
  private constructor(
    private readonly byId: ReadonlyMap<string, ChannelCredentials> | undefined,
    /** How long minting the certificates took (ms); 0 in plaintext. */
    readonly mintMs: number,
  ) {}

  static plaintext(): SimCredentials {
    return new SimCredentials(undefined, 0);
  }

  /**
   * A key and a client certificate for each of `hosts`, minted straight from the CA in the
   * controller's data dir `ctlDir`: the bench started that controller and owns its dir, so it
   * may read the CA's key (the shortcut test/helpers/pki.ts takes too). Real agents join with
   * the Join RPC instead, which the tls step times apart. `batch` at a time, in parallel
   * (WebCrypto makes keys and signs on libuv's thread pool).
   */
  static async mint(ctlDir: string, hosts: readonly FakeHost[], batch = 100): Promise<SimCredentials> {
    const t0 = performance.now();
    const files = controllerFiles(ctlDir);
    if (!existsSync(files.caCert) || !existsSync(files.caKey))
      throw new Error(`no certificate authority in ${ctlDir}: start the controller on that data dir first`);
    const ca = await CertificateAuthority.loadOrCreate(files);
    const caPem = Buffer.from(ca.certPem);
    const byId = new Map<string, ChannelCredentials>();
    for (let i = 0; i < hosts.length; i += batch) {
      await Promise.all(
        hosts.slice(i, i + batch).map(async (host) => {
          const keys = await newKeyPair();
          const [{ certPem }, keyPem] = await Promise.all([
            issueAgentCertificate(ca, host.id, keys.publicKey),
            privateKeyPem(keys.privateKey),
          ]);
          byId.set(host.id, credentials.createSsl(caPem, Buffer.from(keyPem), Buffer.from(certPem)));
        }),
      );
    }
    return new SimCredentials(byId, performance.now() - t0);
  }

  /** What `host` dials with. */
  for(host: FakeHost): ChannelCredentials {
    if (!this.byId) return credentials.createInsecure();
    const c = this.byId.get(host.id);
    if (!c) throw new Error(`no certificate was minted for simulated host ${host.id}`);
    return c;
  }
}

export interface FleetSimOptions {
  address: string;
  /** Each host's client certificate (or plaintext, against the benchmark's plaintext controller). */
  credentials: SimCredentials;
  /** Where the Control API is asked (the controller's Unix socket). */
  control: string;
  controllerPid: number;
  hosts: readonly FakeHost[];
  /** Steady-state window. */
  seconds: number;
  /**
   * Called as the steady window opens; the function it gives back is called as the window
   * closes (the etcd step watches the standby controller and etcd over the same window).
   */
  alongside?: () => Promise<() => Promise<void>>;
  /** Sessions dialled per batch, and the pause between batches. */
  batchSize?: number;
  batchEveryMs?: number;
  log: (line: string) => void;
}

export interface FleetSimResult {
  agents: number;
  connected: number;
  failedToConnect: number;
  rampS: number;
  /** Per session: from making its channel (connect, TLS handshake, hello) to the controller's welcome. */
  dialToWelcome: Summary;
  steady: ProcUsage;
  /** Controller RSS once listening, before any agent. */
  rssIdleBytes: number;
  rtt: Summary;
  /** Round trips of beats sent while ListServers calls ran (right after the steady window). */
  rttDuringList: Summary;
  listWindowS: number;
  heartbeatsSent: number;
  heartbeatsAcked: number;
  /** Sent in the window and not acked by its end (+2 s). */
  unacked: number;
  /** Beats skipped because the stream was still full (write backpressure). */
  skipped: number;
  sessionErrors: number;
  benchCpuPct: number;
  benchLoopDelayP99Ms: number;
  heartbeatBytes: { mean: number; max: number };
  online: number;
  listed: number;
  listServersMs: number;
  listServersBytes: number;
  listServersError?: string;
  /** Extra controller CPU per ListServers call (ms). */
  listCpuMsPerCall: number;
}

/** Bound on recorded beats (1000 agents × 60 s is 60,000). */
const MAX_RECORDS = 2_000_000;

const channelOptions = { ...CLIENT_OPTIONS, 'grpc.use_local_subchannel_pool': 1 };

class SimSession {
  private client?: AgentGatewayClient;
  private call?: ClientDuplexStream<ConnectRequest, ConnectResponse>;
  private timer?: NodeJS.Timeout;
  private workloadTimer?: NodeJS.Timeout;
  private workloadTurn = 0;
  private seq = 0;
  /** seq → write time, for beats in flight (bounded: pruned at every beat). */
  private readonly pending = new Map<number, number>();
  private closing = false;
  welcomed = false;
  failed?: string;
  dialledAt = 0;
  welcomeMs = 0;
  /** The heartbeat interval the controller set last (0 before the welcome). */
  private everyMs = 0;
  ended: Promise<void>;
  private endedResolve!: () => void;

  /** What it runs, by name, when it answers the controller's start and stop commands. */
  private readonly running = new Map<string, Workload>();

  constructor(
    readonly host: FakeHost,
    private readonly stats: SimStats,
    private readonly workloadsEveryMs = 0,
    /** Answers start and stop as an agent would (the workload "runs" at once); other commands fail. */
    private readonly runsWorkloads = false,
  ) {
    this.ended = new Promise((r) => (this.endedResolve = r));
  }

  dial(address: string, creds: SimCredentials, onWelcome: (s: SimSession) => void): void {
    this.dialledAt = performance.now();
    this.client = new AgentGatewayClient(address, creds.for(this.host), channelOptions);
    const call = this.client.connect(new Metadata());
    this.call = call;
    call.on('data', (res: ConnectResponse) => {
      const msg = res.msg;
      if (msg?.$case === 'welcome') {
        this.welcomed = true;
        this.welcomeMs = performance.now() - this.dialledAt;
        const every = Math.max(100, msg.value.heartbeatIntervalMs || 1000);
        this.everyMs = every;
        // Jittered start so the fleet's beats spread over the interval.
        this.timer = setTimeout(() => {
          this.beat();
          this.timer = setInterval(() => this.beat(), every);
        }, Math.random() * every);
        if (this.workloadsEveryMs > 0) {
          this.sendWorkloads();
          this.workloadTimer = setInterval(() => this.sendWorkloads(), this.workloadsEveryMs);
        }
        onWelcome(this);
      } else if (msg?.$case === 'ack') {
        // Like a real agent, take the pace the controller sets (it grows with the fleet, heartbeat-budget.ts).
        const every = Math.max(100, msg.value.heartbeatIntervalMs || 1000);
        if (every !== this.everyMs && this.everyMs > 0) {
          this.everyMs = every;
          clearInterval(this.timer);
          this.timer = setInterval(() => this.beat(), every);
        }
        const sent = this.pending.get(msg.value.seq);
        if (sent === undefined) return;
        this.pending.delete(msg.value.seq);
        this.stats.acked++;
        if (sent >= this.stats.recordFrom && this.stats.acks.length < MAX_RECORDS)
          this.stats.acks.push([sent, performance.now() - sent]);
      } else if (msg?.$case === 'error') {
        this.failed = `${msg.value.code}: ${msg.value.message}`;
      } else if (msg?.$case === 'command' && this.runsWorkloads) {
        this.command(msg.value);
      }
    });
    call.on('error', (err: ServiceError) => {
      if (!this.closing) {
        this.stats.errors++;
        this.failed ??= err.details || err.message;
        if (this.stats.errors <= 3) this.stats.log(`  session ${this.host.id} failed: ${this.failed}`);
      }
      this.finish();
    });
    call.on('end', () => this.finish());
    call.on('close', () => this.finish());
    call.write({ msg: { $case: 'hello', value: this.host.hello() } });
  }

  private beat(): void {
    const call = this.call;
    if (!call || this.closing) return;
    const now = performance.now();
    // Beats older than 10 s will not be acked any more: forget them (keeps the map bounded).
    for (const [seq, at] of this.pending) if (now - at > 10_000) this.pending.delete(seq);
    if (call.writableNeedDrain) {
      this.stats.skipped++;
      return;
    }
    const seq = ++this.seq;
    this.pending.set(seq, now);
    this.stats.sent++;
    if (now >= this.stats.recordFrom && this.stats.sends.length < MAX_RECORDS) this.stats.sends.push(now);
    call.write({ msg: { $case: 'heartbeat', value: { seq, samples: [this.host.next()], routes: [] } } });
  }

  /**
   * Workloads that change at every turn: two of a window of five names per host, one running
   * and one exited (what a churning fleet's agents report).
   */
  private sendWorkloads(): void {
    const call = this.call;
    if (!call || this.closing || call.writableNeedDrain) return;
    const turn = this.workloadTurn++;
    const now = Date.now();
    const workload = (n: number, running: boolean): Workload => ({
      spec: {
        name: `soak-${this.host.index}-${n % 5}`,
        command: '/bin/true',
        args: [],
        env: {},
        cwd: '',
        labels: { soak: 'yes' },
        restart: 0,
        strategy: 0,
        checkpointSignal: '',
        checkpointTimeoutMs: 0,
        ports: [],
      },
      serverId: this.host.id,
      state: running ? WorkloadState.WORKLOAD_STATE_RUNNING : WorkloadState.WORKLOAD_STATE_EXITED,
      pid: running ? 10_000 + turn : 0,
      startedMs: now,
      exitCode: running ? undefined : turn % 3,
      exitSignal: '',
      restarts: turn,
      stateDir: '',
      restored: false,
      message: running ? '' : `exited ${turn % 3}`,
    });
    this.stats.workloadSnapshots++;
    call.write({
      msg: { $case: 'workloads', value: { workloads: [workload(turn, true), workload(turn + 1, false)] } },
    });
  }

  /** A start runs the workload at once, a stop ends (and with remove, forgets) it; each is reported as an agent does. */
  private command(c: AgentCommand): void {
    const call = this.call;
    if (!call || this.closing) return;
    const a = c.action;
    let workload: Workload | undefined;
    if (a?.$case === 'start' && a.value.spec) {
      workload = {
        spec: a.value.spec,
        serverId: this.host.id,
        state: WorkloadState.WORKLOAD_STATE_RUNNING,
        pid: 20_000 + this.running.size,
        startedMs: Date.now(),
        exitSignal: '',
        restarts: 0,
        stateDir: '',
        restored: false,
        message: '',
        cpuPct: 5,
      };
      this.running.set(a.value.spec.name, workload);
    } else if (a?.$case === 'stop') {
      workload = this.running.get(a.value.name);
      if (workload) workload = { ...workload, state: WorkloadState.WORKLOAD_STATE_EXITED, pid: 0, exitCode: 0 };
      if (a.value.remove) this.running.delete(a.value.name);
      else if (workload) this.running.set(a.value.name, workload);
    }
    const error = workload
      ? undefined
      : { code: 'UNIMPLEMENTED', message: 'the simulated agent only starts and stops', details: {} };
    call.write({
      msg: {
        $case: 'result',
        value: CommandResult.fromPartial({ id: c.id, error, workload }),
      },
    });
    call.write({ msg: { $case: 'workloads', value: { workloads: [...this.running.values()] } } });
  }

  /** Beats sent in the window still waiting for an ack. */
  unackedIn(from: number, to: number): number {
    let n = 0;
    for (const at of this.pending.values()) if (at >= from && at <= to) n++;
    return n;
  }

  stopBeating(): void {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    clearInterval(this.workloadTimer);
  }

  /** Ends the session politely (half-close); close() later cancels whatever is left. */
  end(): void {
    this.closing = true;
    this.stopBeating();
    this.call?.end();
  }

  close(): void {
    this.closing = true;
    this.stopBeating();
    this.call?.cancel();
    this.client?.close();
    this.finish();
  }

  private finish(): void {
    this.stopBeating();
    this.endedResolve();
  }
}

interface SimStats {
  sent: number;
  workloadSnapshots: number;
  acked: number;
  skipped: number;
  errors: number;
  /** Sends and acks of beats sent from then on are recorded (send time, round trip). */
  recordFrom: number;
  sends: number[];
  acks: [number, number][];
  log: (line: string) => void;
}

function newStats(log: (line: string) => void): SimStats {
  return {
    sent: 0,
    acked: 0,
    skipped: 0,
    errors: 0,
    workloadSnapshots: 0,
    recordFrom: Number.POSITIVE_INFINITY,
    sends: [],
    acks: [],
    log,
  };
}

/**
 * Connection set-up on a quiet controller: each of `hosts` dials alone (channel, connect, TLS
 * handshake, hello) and is closed once welcomed; ms from dial to welcome. The first host's dial
 * warms both ends up and is not counted. Give it the fleet's own hosts: they dial again in the ramp.
 */
export async function timeDials(
  address: string,
  creds: SimCredentials,
  hosts: readonly FakeHost[],
  log: (line: string) => void,
): Promise<{ dialToWelcome: Summary; failed: number }> {
  const stats = newStats(log);
  const ms: number[] = [];
  let failed = 0;
  for (const [i, host] of hosts.entries()) {
    const s = new SimSession(host, stats);
    let giveUp: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => s.dial(address, creds, () => r())),
      s.ended,
      new Promise<void>((r) => (giveUp = setTimeout(r, 10_000))),
    ]);
    clearTimeout(giveUp);
    s.close();
    await s.ended;
    if (i === 0) continue;
    if (s.welcomed) ms.push(s.welcomeMs);
    else failed++;
  }
  return { dialToWelcome: summarize(ms), failed };
}

/** Dials `hosts` in batches of `batchSize` every `batchEveryMs` (sessions go into `sessions` as they are made). */
async function dialFleet(
  address: string,
  creds: SimCredentials,
  hosts: readonly FakeHost[],
  stats: SimStats,
  sessions: SimSession[],
  batchSize: number,
  batchEveryMs: number,
  log: (line: string) => void,
  workloadsEveryMs = 0,
  runsWorkloads = false,
): Promise<{ connected: number; rampS: number; dialToWelcome: Summary }> {
  const agents = hosts.length;
  log(`  dialling ${agents} sessions, ${batchSize} every ${batchEveryMs} ms…`);
  const rampStart = performance.now();
  let welcomed = 0;
  let allWelcomed!: () => void;
  const everyoneIn = new Promise<void>((r) => (allWelcomed = r));
  const onWelcome = () => {
    if (++welcomed === agents) allWelcomed();
  };
  if (agents === 0) allWelcomed();
  for (let i = 0; i < agents; i += batchSize) {
    const batchAt = performance.now();
    for (const host of hosts.slice(i, i + batchSize)) {
      const s = new SimSession(host, stats, workloadsEveryMs, runsWorkloads);
      sessions.push(s);
      s.dial(address, creds, onWelcome);
    }
    const wait = batchEveryMs - (performance.now() - batchAt);
    if (i + batchSize < agents && wait > 0) await sleep(wait);
  }
  // Everyone welcomed, or 30 s after the last dial.
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([everyoneIn, new Promise<void>((r) => (giveUp = setTimeout(r, 30_000)))]);
  clearTimeout(giveUp);
  const rampS = (performance.now() - rampStart) / 1000;
  const connected = sessions.filter((s) => s.welcomed).length;
  log(`  ${connected}/${agents} sessions welcomed in ${rampS.toFixed(1)} s`);
  return { connected, rampS, dialToWelcome: summarize(sessions.filter((s) => s.welcomed).map((s) => s.welcomeMs)) };
}

/** Half-closes every session, then cancels what is left after 3 s. */
async function closeFleet(sessions: readonly SimSession[]): Promise<void> {
  for (const s of sessions) s.end();
  let giveUp: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(sessions.map((s) => s.ended)),
    new Promise<void>((r) => (giveUp = setTimeout(r, 3000))),
  ]);
  clearTimeout(giveUp);
  for (const s of sessions) s.close();
}

/** A simulated fleet left running (the dashboard benchmark watches it): close() ends every session. */
export interface SimFleet {
  agents: number;
  connected: number;
  rampS: number;
  /** Heartbeats sent and acked so far, beats skipped (backpressure), sessions that failed, workload snapshots sent. */
  counters(): { sent: number; acked: number; skipped: number; errors: number; workloadSnapshots: number };
  close(): Promise<void>;
}

/**
 * Opens a session for each of `hosts` (heartbeats at the controller's interval, 1 Hz by default)
 * and leaves them running (a host dialled again keeps its identity and certificate);
 * `workloadsEveryMs` has each report changing workloads that often.
 */
export async function startSimFleet(opts: {
  address: string;
  credentials: SimCredentials;
  hosts: readonly FakeHost[];
  workloadsEveryMs?: number;
  /** Each simulated agent answers start and stop commands (deployments' replicas). */
  runsWorkloads?: boolean;
  batchSize?: number;
  batchEveryMs?: number;
  log: (line: string) => void;
}): Promise<SimFleet> {
  const stats = newStats(opts.log);
  const { hosts } = opts;
  const sessions: SimSession[] = [];
  try {
    const { connected, rampS } = await dialFleet(
      opts.address,
      opts.credentials,
      hosts,
      stats,
      sessions,
      opts.batchSize ?? 50,
      opts.batchEveryMs ?? 500,
      opts.log,
      opts.workloadsEveryMs,
      opts.runsWorkloads,
    );
    let closed: Promise<void> | undefined;
    return {
      agents: hosts.length,
      connected,
      rampS,
      counters: () => ({
        sent: stats.sent,
        acked: stats.acked,
        skipped: stats.skipped,
        errors: stats.errors,
        workloadSnapshots: stats.workloadSnapshots,
      }),
      close: () => (closed ??= closeFleet(sessions)),
    };
  } catch (err) {
    await closeFleet(sessions);
    throw err;
  }
}

export async function runFleetSim(opts: FleetSimOptions): Promise<FleetSimResult> {
  const { hosts, log } = opts;
  const agents = hosts.length;
  const batchSize = opts.batchSize ?? 50;
  const batchEveryMs = opts.batchEveryMs ?? 500;
  const stats = newStats(log);
  const sessions: SimSession[] = [];
  const rssIdle = new ProcMonitor(opts.controllerPid).stop().rssLastBytes;

  // Wire size of a typical heartbeat, for the report.
  const wire = hosts.slice(0, Math.min(50, hosts.length)).map(
    (h) =>
      ConnectRequest.encode({
        msg: { $case: 'heartbeat', value: { seq: 1, samples: [h.next()], routes: [] } },
      }).finish().length,
  );

  try {
    // Ramp-up: batches of `batchSize` every `batchEveryMs`.
    const { connected, rampS, dialToWelcome } = await dialFleet(
      opts.address,
      opts.credentials,
      hosts,
      stats,
      sessions,
      batchSize,
      batchEveryMs,
      log,
    );

    // Let every jittered heartbeat start, then measure the steady state.
    await sleep(2000);
    log(`  steady state for ${opts.seconds} s…`);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const benchCpu0 = process.cpuUsage();
    const benchT0 = performance.now();
    const windowStart = performance.now();
    stats.recordFrom = windowStart;
    const mon = new ProcMonitor(opts.controllerPid);
    const alongsideEnd = await opts.alongside?.();
    await sleep(opts.seconds * 1000);
    await alongsideEnd?.();
    const steady = mon.stop();
    const windowEnd = performance.now();
    const benchCpu = process.cpuUsage(benchCpu0);
    const benchCpuPct = ((benchCpu.user + benchCpu.system) / 1000 / (windowEnd - benchT0)) * 100;
    loop.disable();

    // What the Control API says while the fleet is still connected: LIST_CALLS ListServers
    // calls a second apart from another process, while the beats go on (their round trips are
    // kept apart from the steady state's).
    const LIST_CALLS = 5;
    let online = 0;
    let listed = 0;
    let listMs: number[] = [];
    let listServersBytes = Number.NaN;
    let listServersError: string | undefined;
    const listStart = performance.now();
    const listMon = new ProcMonitor(opts.controllerPid);
    try {
      const out = await runNode(LIST_CLIENT, [opts.control, String(LIST_CALLS), '1000'], 60_000);
      const report = JSON.parse(out.trim().split('\n').pop()!) as ListClientReport;
      ({ listed, online } = report);
      listMs = report.ms;
      listServersBytes = report.bytes;
      listServersError = report.error;
    } catch (err) {
      listServersError = err instanceof Error ? err.message : String(err);
    }
    const listUsage = listMon.stop();
    const listEnd = performance.now();
    // Give the last beats a moment for their acks.
    await sleep(2000);
    let unacked = 0;
    for (const s of sessions) unacked += s.unackedIn(windowStart, windowEnd);
    // Diagnostics: BENCH_DUMP=file writes every recorded beat (send time, round trip) for offline analysis.
    if (process.env.BENCH_DUMP)
      (await import('node:fs')).writeFileSync(
        process.env.BENCH_DUMP,
        JSON.stringify({
          origin: performance.timeOrigin,
          windowStart,
          windowEnd,
          listStart,
          listEnd,
          acks: stats.acks,
        }),
      );
    const inWindow = stats.acks.filter(([at]) => at >= windowStart && at <= windowEnd);
    const duringList = stats.acks.filter(([at]) => at >= listStart && at <= listEnd);
    const listServersMs = summarize(listMs).p50;
    // Controller CPU the calls cost, over what the beats cost in the steady window.
    const listCpuMsPerCall = listMs.length
      ? (((listUsage.cpuPct - steady.cpuPct) / 100) * listUsage.windowS * 1000) / listMs.length
      : Number.NaN;

    return {
      agents,
      connected,
      failedToConnect: agents - connected,
      rampS,
      dialToWelcome,
      steady,
      rssIdleBytes: rssIdle,
      rtt: summarize(inWindow.map(([, rtt]) => rtt)),
      heartbeatsSent: stats.sends.filter((t) => t >= windowStart && t <= windowEnd).length,
      heartbeatsAcked: inWindow.length,
      rttDuringList: summarize(duringList.map(([, rtt]) => rtt)),
      listWindowS: (listEnd - listStart) / 1000,
      unacked,
      skipped: stats.skipped,
      sessionErrors: stats.errors,
      benchCpuPct,
      // The probe's own 10 ms period is part of every reading: take it off.
      benchLoopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - 10),
      heartbeatBytes: { mean: wire.reduce((a, b) => a + b, 0) / wire.length, max: Math.max(...wire) },
      online,
      listed,
      listServersMs,
      listServersBytes,
      listServersError,
      listCpuMsPerCall,
    };
  } finally {
    // Close every session: half-close first, then cancel what is left after 3 s.
    await closeFleet(sessions);
  }
}
