// Fault injection: migrations of a stateful workload (bench/chaos-counter.ts) between two real
// agents through a real controller, with one of the three processes SIGKILLed at a chosen
// moment of the migration and started again on the same data dir. Each run then checks real
// processes (/proc, not what the controller says): the workload ends on exactly one host, was
// never on two at once, went on from its newest checkpoint with a state that passed its
// checksum, and the migration ended (committed, rolled back or failed) within a bound.
// `npm run bench -- --only chaos` runs 200 and prints the table; test/integration/chaos.test.ts
// runs a few in `npm test`.
import { Metadata } from '@grpc/grpc-js';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { controlClient } from '../src/cli/client.js';
import {
  MigrationStrategy,
  RestartPolicy,
  migrationDone,
  migrationPhases,
  type Migration,
  type WorkloadSpec,
} from '../src/core/workload.js';
import { ServerState } from '../src/gen/switchyard/v1/fleet.js';
import { rng } from './hosts.js';
import { freePort, sleep, tempDir, waitUntil, YardProcess } from './lib.js';

export type Host = 'h1' | 'h2';
const HOSTS: readonly Host[] = ['h1', 'h2'];
const VICTIMS = ['target agent', 'source agent', 'controller'] as const;
export type Victim = (typeof VICTIMS)[number];
/** Where kill points are aimed, in turn; the phase actually seen at the kill is what is reported. */
const AIMED_PHASES = ['preflight', 'checkpointing', 'transferring', 'restoring', 'verifying'] as const;
type AimedPhase = (typeof AIMED_PHASES)[number];

/** What the suite needs of a Control client (test/helpers/control.ts and controlClient both fit). */
type Api = Pick<ReturnType<typeof controlClient>, 'client' | 'call' | 'close'> & { metadata?: Metadata };

/** A started `yard` process (the test helpers' and the bench helpers' both fit). */
export interface ChaosProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
}

/** The controller and the two agents, started by the caller's own helpers (test or bench). */
export interface ChaosCluster {
  /** Starts the controller, or starts it again on the same data dir and address; resolves once it listens. */
  startController(): Promise<ChaosProcess>;
  /** Starts host `h`'s agent (named `h`), or starts it again on the same data dir. */
  startAgent(h: Host): ChaosProcess;
  /** A Control client for the controller as it is now. */
  connect(): Api;
  /** Each agent's data dir: a workload process belongs to the host whose dir holds its state dir. */
  agentDirs: Record<Host, string>;
  /** Where the runs' ledgers go. */
  workDir: string;
}

export interface ChaosOptions {
  runs: number;
  /** dist/bench/chaos-counter.js */
  counter: string;
  /** Seeds the kill points (printed: a run can be replayed). */
  seed: number;
  log: (line: string) => void;
}

export type Outcome = 'committed' | 'rolled_back' | 'failed' | 'stuck';

export interface ChaosRun {
  run: number;
  victim: Victim;
  aimed: AimedPhase;
  /** The migration's phase as last seen when the kill landed ('ended': it was already over). */
  phaseAtKill: string;
  killAtMs: number;
  outcome: Outcome;
  /** Hosts running the workload at the end (1 is right). */
  hostsAtEnd: number;
  /** The most hosts seen running it at once, sampled every 50 ms through the run. */
  maxHosts: number;
  /** It went on from older state than its newest checkpoint (restored from an older one, or started afresh). */
  olderState: string[];
  /** A restore refused a state that failed its checksum. */
  corrupt: string[];
  error: string;
  ms: number;
}

export interface ChaosResult {
  seed: number;
  runs: ChaosRun[];
  /** Phase start times of the calibration migration (ms after StartMigration answered). */
  calibration: Record<string, number>;
  ms: number;
}

/** How long a migration may take to end after the kill before the run counts as stuck. */
const END_WAIT_MS = 60_000;
/** How long the workload may take to settle on one host once the migration ended. */
const SETTLE_WAIT_MS = 20_000;
/** One host for this long, same process, and it has settled. */
const STABLE_MS = 1500;
const SAMPLE_MS = 50;
const ENDED = new Set(['committed', 'rolled_back', 'failed']);

function spec(name: string, counter: string, ledger: string): WorkloadSpec {
  return {
    name,
    command: process.execPath,
    args: [counter],
    env: { CHAOS_LEDGER: ledger },
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 10_000,
    ports: [],
  };
}

/** Live processes of one run's workload, by host: found in /proc by the ledger in their environment. */
function workloadProcs(ledger: string, dirs: Record<Host, string>): Map<number, Host | '?'> {
  const found = new Map<number, Host | '?'>();
  const marker = `CHAOS_LEDGER=${ledger}\0`;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes('chaos-counter')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (!environ.includes(marker)) continue;
      // A zombie has exited: it runs nowhere.
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${entry}/stat`, 'latin1'))) continue;
      const stateDir = /(?:^|\0)SWITCHYARD_STATE_DIR=([^\0]*)/.exec(environ)?.[1] ?? '';
      found.set(Number(entry), HOSTS.find((h) => stateDir.startsWith(dirs[h] + '/')) ?? '?');
    } catch {
      // gone while we looked
    }
  }
  return found;
}

const hostsOf = (procs: Map<number, Host | '?'>) => new Set(procs.values()).size;

/**
 * What the ledger shows: each restore must resume from the newest save before it, a fresh
 * start after a save threw that save away, and a refusal means a state failed its checksum.
 */
function readLedger(text: string): { olderState: string[]; corrupt: string[] } {
  const olderState: string[] = [];
  const corrupt: string[] = [];
  let saved: number | undefined;
  for (const line of text.split('\n').filter(Boolean)) {
    const [what, nText] = line.split(' ');
    const n = Number(nText?.replace('n=', ''));
    if (what === 'saved') saved = n;
    else if (what === 'restored' && n !== saved)
      olderState.push(`restored at n=${n}, newest save n=${saved ?? 'none'}`);
    else if (what === 'fresh' && saved !== undefined) olderState.push(`started afresh after a save at n=${saved}`);
    else if (what === 'corrupt') corrupt.push(line);
  }
  return { olderState, corrupt };
}

class Chaos {
  private api: Api;
  private procs!: Record<'controller' | Host, ChaosProcess>;
  private readonly rand: () => number;

  constructor(
    private readonly c: ChaosCluster,
    private readonly o: ChaosOptions,
  ) {
    this.rand = rng(o.seed);
    this.api = c.connect();
  }

  async start(): Promise<void> {
    const controller = await this.c.startController();
    this.reconnect();
    this.procs = { controller, h1: this.c.startAgent('h1'), h2: this.c.startAgent('h2') };
    await this.online();
  }

  async stop(): Promise<void> {
    this.api.close();
    await Promise.all(Object.values(this.procs ?? {}).map((p) => stopProc(p)));
  }

  private reconnect(): void {
    this.api.close();
    this.api = this.c.connect();
  }

  /** Both agents online with metrics (preflight needs the target's CPU and disk). */
  private online(timeoutMs = 30_000): Promise<true> {
    return waitUntil(
      'h1 and h2 online, with metrics',
      async () => {
        const { servers } = await this.api.call(this.api.client.listServers, { pageSize: 0, pageToken: '' });
        const ready = servers
          .filter((s) => s.state === ServerState.SERVER_STATE_ONLINE && s.latest?.cpuPct !== undefined)
          .map((s) => s.name);
        return HOSTS.every((h) => ready.includes(h)) ? (true as const) : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** A migration with no kill: when each phase begins, to aim the kills. */
  async calibrate(): Promise<Record<string, number>> {
    const name = 'chaos-calibration';
    const ledger = join(this.c.workDir, `${name}.ledger`);
    await this.runWorkload(name, ledger, 'h1');
    const seen: Record<string, number> = {};
    const { m, t0 } = await this.migrate(name, 'h2', (phase, at) => (seen[phase] ??= at));
    const done = await this.waitEnd(m.id, END_WAIT_MS);
    seen.ended ??= Date.now() - t0;
    if (done !== 'committed')
      throw new Error(
        `the calibration migration (no kill) ended ${done}: ${(await this.migration(m.id))?.error ?? ''}`,
      );
    await this.remove(name, ledger);
    return seen;
  }

  async run(i: number, calibration: Record<string, number>): Promise<ChaosRun> {
    const started = Date.now();
    const victim = VICTIMS[i % VICTIMS.length]!;
    const aimed = AIMED_PHASES[i % AIMED_PHASES.length]!;
    // Each kill target sees moves both ways.
    const source: Host = Math.floor(i / VICTIMS.length) % 2 ? 'h2' : 'h1';
    const target: Host = source === 'h1' ? 'h2' : 'h1';
    const name = `chaos-${i}`;
    const ledger = join(this.c.workDir, `${name}.ledger`);
    const out: ChaosRun = {
      run: i,
      victim,
      aimed,
      phaseAtKill: '',
      killAtMs: 0,
      outcome: 'stuck',
      hostsAtEnd: 0,
      maxHosts: 0,
      olderState: [],
      corrupt: [],
      error: '',
      ms: 0,
    };

    await this.runWorkload(name, ledger, source);
    let maxHosts = 0;
    const sampler = setInterval(
      () => (maxHosts = Math.max(maxHosts, hostsOf(workloadProcs(ledger, this.c.agentDirs)))),
      SAMPLE_MS,
    );
    try {
      const next = AIMED_PHASES[AIMED_PHASES.indexOf(aimed) + 1] ?? 'ended';
      const from = aimed === 'preflight' ? 0 : (calibration[aimed] ?? 0);
      const to = Math.max(from + 1, calibration[next] ?? from + 200);
      out.killAtMs = Math.round(from + this.rand() * (to - from));
      let phase = 'preflight';
      const { m, t0 } = await this.migrate(name, target, (p) => (phase = p));
      await sleep(Math.max(0, out.killAtMs - (Date.now() - t0)));
      out.phaseAtKill = ENDED.has(phase) ? 'ended' : phase;
      await this.kill(victim === 'controller' ? 'controller' : victim === 'source agent' ? source : target);

      out.outcome = await this.waitEnd(m.id, END_WAIT_MS);
      if (out.outcome === 'stuck')
        out.error = `still ${migrationPhases.name((await this.migration(m.id))?.phase ?? 0)} after ${END_WAIT_MS / 1000} s`;
      await this.online();
      out.hostsAtEnd = await this.settle(ledger);
      const found = readLedger(existsSync(ledger) ? readFileSync(ledger, 'utf8') : '');
      out.olderState = found.olderState;
      out.corrupt = found.corrupt;
      if (out.outcome !== 'committed') out.error ||= (await this.migration(m.id))?.error ?? '';
    } catch (err) {
      out.error = err instanceof Error ? err.message : String(err);
    } finally {
      clearInterval(sampler);
      out.maxHosts = Math.max(maxHosts, out.hostsAtEnd);
      await this.remove(name, ledger).catch((err: unknown) =>
        this.o.log(`  run ${i}: cleanup: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    out.ms = Date.now() - started;
    return out;
  }

  /** Starts the run's workload on `host` and waits until it counts there. */
  private async runWorkload(name: string, ledger: string, host: Host): Promise<void> {
    await this.api.call(this.api.client.runWorkload, { server: host, spec: spec(name, this.o.counter, ledger) });
    await waitUntil(
      `${name} running on ${host}`,
      async () => {
        const { workloads } = await this.api.call(this.api.client.listWorkloads, {});
        const w = workloads.find((x) => x.spec?.name === name);
        return w?.pid && existsSync(ledger) && hostsOf(workloadProcs(ledger, this.c.agentDirs)) === 1
          ? true
          : undefined;
      },
      15_000,
      50,
    );
    await sleep(200);
  }

  /** Starts the migration and follows its phases (the watch ends with the controller). */
  private async migrate(
    name: string,
    to: Host,
    onPhase: (phase: string, atMs: number) => void,
  ): Promise<{ m: Migration; t0: number }> {
    const m = (
      await this.api.call(this.api.client.startMigration, {
        workload: name,
        target: to,
        strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      })
    ).migration!;
    const t0 = Date.now();
    const stream = this.api.client.watchMigration({ id: m.id }, this.api.metadata ?? new Metadata());
    stream.on(
      'data',
      (r: { migration?: Migration }) =>
        r.migration && onPhase(migrationPhases.name(r.migration.phase), Date.now() - t0),
    );
    stream.on('error', () => undefined);
    return { m, t0 };
  }

  private async migration(id: string): Promise<Migration | undefined> {
    return (
      await this.api.call(this.api.client.listMigrations, {}).catch(() => ({ migrations: [] as Migration[] }))
    ).migrations.find((x) => x.id === id);
  }

  private async waitEnd(id: string, timeoutMs: number): Promise<Outcome> {
    const done = await waitUntil(
      'the migration to end',
      async () => {
        const m = await this.migration(id);
        return m && migrationDone(m.phase) ? m : undefined;
      },
      timeoutMs,
      100,
    ).catch(() => undefined);
    return done ? (migrationPhases.name(done.phase) as Outcome) : 'stuck';
  }

  /** SIGKILL, then the same process again on the same data dir. */
  private async kill(which: 'controller' | Host): Promise<void> {
    const p = this.procs[which];
    p.child.kill('SIGKILL');
    await p.exited;
    if (which === 'controller') {
      this.procs.controller = await this.c.startController();
      this.reconnect();
    } else {
      this.procs[which] = this.c.startAgent(which);
    }
  }

  /** Waits (bounded) for one host and the same process for STABLE_MS; returns the hosts then. */
  private async settle(ledger: string): Promise<number> {
    const deadline = Date.now() + SETTLE_WAIT_MS;
    let since = Date.now();
    let last = '';
    for (;;) {
      const procs = workloadProcs(ledger, this.c.agentDirs);
      const key = [...procs.keys()].sort().join(',');
      if (key !== last) {
        last = key;
        since = Date.now();
      }
      if (procs.size === 1 && Date.now() - since >= STABLE_MS) return 1;
      if (Date.now() > deadline) return hostsOf(procs);
      await sleep(SAMPLE_MS * 2);
    }
  }

  /** Stops and forgets the run's workload everywhere; whatever still runs of it is killed by pid. */
  private async remove(name: string, ledger: string): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const { workloads } = await this.api.call(this.api.client.listWorkloads, {});
      if (!workloads.some((w) => w.spec?.name === name)) break;
      await this.api.call(this.api.client.stopWorkload, { name, remove: true }).catch(() => undefined);
    }
    for (const pid of workloadProcs(ledger, this.c.agentDirs).keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

async function stopProc(p: ChaosProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  p.child.kill('SIGTERM');
  await p.exited;
  clearTimeout(timer);
}

/** Runs the suite: a calibration migration, then `runs` migrations each with one kill. */
export async function runChaos(cluster: ChaosCluster, opts: ChaosOptions): Promise<ChaosResult> {
  const t0 = Date.now();
  const chaos = new Chaos(cluster, opts);
  try {
    await chaos.start();
    const calibration = await chaos.calibrate();
    opts.log(
      `  seed ${opts.seed}; phases of an undisturbed migration (ms): ${Object.entries(calibration)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    const runs: ChaosRun[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const r = await chaos.run(i, calibration);
      runs.push(r);
      const bad = [
        r.outcome === 'stuck' && 'STUCK',
        r.hostsAtEnd === 0 && 'LOST',
        r.maxHosts > 1 && 'TWO HOSTS',
        r.olderState.length && 'OLDER STATE',
        r.corrupt.length && 'CORRUPT',
      ].filter(Boolean);
      opts.log(
        `  run ${i}: kill ${r.victim} at ${r.killAtMs} ms (${r.phaseAtKill}) → ${r.outcome}, ${r.hostsAtEnd} host(s) at the end, ${(r.ms / 1000).toFixed(1)} s${bad.length ? `  ${bad.join(' ')}` : ''}${r.error ? `: ${r.error.split('\n')[0]}` : ''}${[...r.olderState, ...r.corrupt].map((s) => `\n    ${s}`).join('')}`,
      );
    }
    return { seed: opts.seed, runs, calibration, ms: Date.now() - t0 };
  } finally {
    await chaos.stop();
  }
}

export type ChaosTotals = ReturnType<typeof chaosTotals>;

/** Totals over the runs: what the README's table and the test's assertions read. */
export function chaosTotals(runs: readonly ChaosRun[]) {
  return {
    runs: runs.length,
    committed: runs.filter((r) => r.outcome === 'committed').length,
    rolledBack: runs.filter((r) => r.outcome === 'rolled_back').length,
    failed: runs.filter((r) => r.outcome === 'failed').length,
    stuck: runs.filter((r) => r.outcome === 'stuck').length,
    lost: runs.filter((r) => r.hostsAtEnd === 0).length,
    twoHosts: runs.filter((r) => r.maxHosts > 1).length,
    olderState: runs.filter((r) => r.olderState.length > 0).length,
    corrupt: runs.filter((r) => r.corrupt.length > 0).length,
  };
}

/** The table: kill target × phase at the kill, with each row's outcomes, then the totals. */
export function chaosTable(r: ChaosResult): string[] {
  const phases = ['planned', ...AIMED_PHASES, 'rolling_back', 'ended'];
  const lines = [
    `${'kill target'.padEnd(14)}${'phase at kill'.padEnd(15)}${'runs'.padStart(5)}${'committed'.padStart(11)}${'rolled back'.padStart(13)}${'failed'.padStart(8)}${'stuck'.padStart(7)}`,
  ];
  for (const victim of VICTIMS) {
    for (const phase of phases) {
      const rs = r.runs.filter((x) => x.victim === victim && x.phaseAtKill === phase);
      if (!rs.length) continue;
      const t = chaosTotals(rs);
      lines.push(
        `${victim.padEnd(14)}${phase.padEnd(15)}${String(t.runs).padStart(5)}${String(t.committed).padStart(11)}${String(t.rolledBack).padStart(13)}${String(t.failed).padStart(8)}${String(t.stuck).padStart(7)}`,
      );
    }
  }
  const t = chaosTotals(r.runs);
  lines.push(
    `${'all'.padEnd(29)}${String(t.runs).padStart(5)}${String(t.committed).padStart(11)}${String(t.rolledBack).padStart(13)}${String(t.failed).padStart(8)}${String(t.stuck).padStart(7)}`,
    `lost (no host) ${t.lost}   on two hosts ${t.twoHosts}   stuck ${t.stuck}   older-state resumes ${t.olderState}   failed checksums ${t.corrupt}   (seed ${r.seed}, ${(r.ms / 1000).toFixed(0)} s)`,
  );
  return lines;
}

/** `npm run bench -- --only chaos`: the suite on the bench's own processes, on 127.0.0.1. */
export async function runChaosBench(opts: Omit<ChaosOptions, 'counter'>): Promise<ChaosResult> {
  const { controlClient } = await import('../src/cli/client.js');
  const ctlDir = tempDir('yard-bench-chaos-ctl-');
  const agentDirs: Record<Host, string> = { h1: tempDir('yard-bench-chaos-h1-'), h2: tempDir('yard-bench-chaos-h2-') };
  const address = `127.0.0.1:${await freePort()}`;
  const cluster: ChaosCluster = {
    async startController() {
      const p = new YardProcess('controller', [
        'controller',
        '--data-dir',
        ctlDir,
        '--listen',
        address,
        '--heartbeat',
        '200ms',
        '--grace',
        '2s',
        '--verify',
        '500ms',
        '--cpu-limit',
        '100',
      ]);
      await p.waitForOutput(/controller listening/, 20_000);
      return p;
    },
    startAgent: (h) =>
      new YardProcess(`agent ${h}`, [
        'agent',
        '--controller',
        address,
        '--token-file',
        join(ctlDir, 'join-token'),
        '--data-dir',
        agentDirs[h],
        '--name',
        h,
        '--interval',
        '250ms',
        '--nvidia-smi',
        '/nonexistent',
      ]),
    // On the controller's host: its owner-only socket.
    connect: () => controlClient({ address: `unix:${join(ctlDir, 'control.sock')}`, from: 'bench' }, 30_000),
    agentDirs,
    workDir: tempDir('yard-bench-chaos-runs-'),
  };
  return runChaos(cluster, { ...opts, counter: join(import.meta.dirname, 'chaos-counter.js') });
}
