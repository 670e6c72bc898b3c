// `npm run bench`: prints figures (not a test). Runs the fleet simulator, the same fleet against a
// controller on lowdb and against two on a three-member etcd, what TLS costs it (the
// same fleet with mTLS and in plaintext, and what joining costs an agent), the render benchmark,
// the dashboard cost benchmark (against gtop and btop), the wall's soak in a churning fleet, the agent cost benchmark, the migration
// benchmark (on loopback, then across shaped links between network namespaces), the proxy benchmark
// (against HAProxy) and the fault-injection suite (migrations with a process SIGKILLed mid-way) one
// after the other, and cleans up every process, temp dir and namespace.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import type { AgentCostResult } from './agent-cost.js';
import type { ChaosTotals } from './chaos.js';
import type { DashCostResult, DashboardRun, Measured } from './dashboard-cost.js';
import type { DeployBenchResult } from './deploy.js';
import type { EtcdBenchResult, EtcdWindow } from './etcd-fleet.js';
import type { FleetSimResult } from './fleet-sim.js';
import {
  fmt,
  killAll,
  killAllNow,
  mb,
  removeTempDirs,
  startController,
  type ProcUsage,
  type YardProcess,
} from './lib.js';
import type { MigrationResult, Moved } from './migration.js';
import type { NetMigrationResult, PlainCopy, PrecopyMove } from './net.js';
import { destroyNetTopologies } from './net-topology.js';
import type { ProxyBenchResult } from './proxy.js';
import type { Latency, PathReport } from './proxy-plan.js';
import type { RenderResult } from './render.js';
import type { ScrapeCostResult } from './scrape.js';
import type { SoakResult } from './soak.js';
import type { TlsBenchResult } from './tls.js';

const STEPS = [
  'fleet',
  'deploy',
  'etcd',
  'tls',
  'render',
  'dash',
  'soak',
  'agent',
  'scrape',
  'migrate',
  'net',
  'proxy',
  'chaos',
];

/** The fleet step's title: agents beat at 1 Hz until the controller's heartbeat budget spreads them out. */
function fleetLabel(agents: number, budget = 2000): string {
  const everyS = Math.max(1, agents / budget);
  return `controller, ${agents} agents at ${everyS === 1 ? '1 Hz' : `1 beat / ${everyS.toFixed(1)} s (budget ${budget}/s)`}`;
}

const USAGE = `usage: node dist/bench/run.js [--agents N] [--heartbeat-budget N] [--seconds S] [--tls-seconds S] [--tls-sample N] [--agent-seconds S] [--scrape-targets N] [--scrape-seconds S] [--dash-seconds S] [--dash-steady S] [--dash-servers LIST] [--soak-seconds S] [--frames N] [--state-mb LIST] [--net-mb LIST] [--proxy-seconds S] [--proxy-streams N] [--runs N] [--seed N] [--only ${STEPS.join(',')}]
  --agents N          simulated agents for the controller benchmark, the deploy and the etcd step (default 1000)
  --heartbeat-budget N the controller's --heartbeat-budget in that benchmark (default: the controller's, 2000/s;
                      past it the simulated agents beat less often than 1 Hz, as the controller tells them)
  --seconds S         steady-state window of the controller benchmark, and of each side of the etcd step (default 30)
  --tls-seconds S     steady-state window of the TLS benchmark, each side: mTLS, then plaintext (default 60)
  --tls-sample N      TLS benchmark: agents that join with the Join RPC, sessions timed dialling alone (default 50)
  --agent-seconds S   measurement window of the agent benchmark (default 30)
  --scrape-targets N  hosts the scrape benchmark's controller polls, every 5 s, through a real node_exporter page (default 100)
  --scrape-seconds S  measurement window of the scrape benchmark, and of its idle baseline (default 30)
  --dash-seconds S    measurement window of the dashboard, gtop and btop, each (default 20)
  --dash-steady S     start the steady window (the headline) S seconds after each program's first screen (default 90; 0: first window only)
  --dash-servers LIST fleet sizes the dashboard benchmark watches (default 100,1000)
  --soak-seconds S    how long the wall soaks in a churning fleet, after 30 s of warm-up (default 180)
  --frames N          frames timed by the render benchmark (default 200)
  --state-mb LIST     checkpoint sizes (MB) the migration benchmark moves (default 100,1024)
  --net-mb LIST       checkpoint sizes (MB) moved across the shaped network, with plain copies (default 200,1024; root
                      only); the relay at sizes up to 300 MB, TLS cost and pre-copy (1 GB job) with the largest
  --proxy-seconds S   throughput measured per path by the proxy benchmark, in 1 s turns (default 5)
  --proxy-streams N   parallel connections of the proxy throughput measurement (default 8)
  --runs N            fault-injection runs, each a migration with one process SIGKILLed (default 200, ~4 s each)
  --seed N            seeds the kill points of the fault-injection suite (default: from the clock; printed)
  --only LIST         run only some steps (${STEPS.join(', ')})`;

const TARGETS = {
  controllerCpuPct: 25,
  controllerRssMb: 300,
  /** The controller's CPU with mTLS against plaintext, same fleet. */
  tlsCpuRatio: 1.3,
  frameMs: 20,
  agentCpuPct: 2,
  agentRssMb: 80,
  /** The attached dashboard at 1 Hz, 160x48: this much of a core by fleet size, this much RSS (100 servers). */
  dashCpuPct: { 100: 1, 1000: 3 } as Record<number, number>,
  dashRssMb: 150,
  /** Seconds from spawning the dashboard to the whole fleet online with a host's numbers on screen. */
  dashLaunchS: 1,
  /** The soaked wall's RSS at the end against its RSS once warmed up. */
  soakRssGrowth: 1.1,
  /** Transfer rate (transferBytes / transferMs) against a plain TCP copy of the same bytes on lo. */
  transferOfPlain: 0.5,
  /** Downtime against checkpoint + transfer + restore. */
  downtimeFactor: 1.5,
  /** Issue 13, across the shaped network: the move's transfer rate against a plain copy a → b. */
  netTransferOfPlain: 0.85,
  /** The relay fallback against a plain copy over the controller's link (issue 13). */
  netRelayOfPlain: 0.8,
  /** Issue 13: the controller's CPU seconds per GB moved directly. */
  netControllerCpuSPerGb: 0.05,
  /** Issue 13: what TLS may cost the direct transfer's rate (against the same code without TLS). */
  netTlsCost: 0.1,
  /** Issue 13: downtime with pre-copy, 5 % of 1 GB changed, at most the job's own save time plus this. */
  netPrecopyOverSaveMs: 2000,
  /** A copy over the controller's link against tbf's ceiling for it (else the shaping is off). */
  netShapedCtlMin: 0.9,
  /** The yard proxy's throughput against HAProxy's, same forwarding, both one thread. */
  proxyOfHaproxy: 0.7,
  /** Latency the yard proxy adds at p99 on a persistent connection, over loopback. */
  proxyAddedP99Ms: 1,
};

function intFlag(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(`bench: --${name} must be an integer from ${min} to ${max}, got "${v}"\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

function countsFlag(v: string | undefined, name: string, dflt: number[], min: number, max: number): number[] {
  if (v === undefined) return dflt;
  const counts = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!counts.length || counts.some((n) => !Number.isInteger(n) || n < min || n > max)) {
    process.stderr.write(`bench: --${name} must be a list of integers from ${min} to ${max}, got "${v}"\n${USAGE}\n`);
    process.exit(2);
  }
  return counts;
}

function sizesFlag(v: string | undefined, dflt: number[], name = 'state-mb'): number[] {
  if (v === undefined) return dflt;
  const sizes = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  // The controller runs with --max-checkpoint 4GiB.
  if (!sizes.length || sizes.some((n) => !Number.isFinite(n) || n <= 0 || n > 4000)) {
    process.stderr.write(
      `bench: --${name} must be a list of sizes in MB, each above 0 and at most 4000, got "${v}"\n${USAGE}\n`,
    );
    process.exit(2);
  }
  return sizes;
}

let args: {
  agents: number;
  heartbeatBudget?: number;
  seconds: number;
  tlsSeconds: number;
  tlsSample: number;
  agentSeconds: number;
  scrapeTargets: number;
  scrapeSeconds: number;
  dashSeconds: number;
  dashSteady: number;
  dashServers: number[];
  soakSeconds: number;
  frames: number;
  stateMb: number[];
  netMb: number[];
  proxySeconds: number;
  proxyStreams: number;
  runs: number;
  seed: number;
  only: Set<string>;
};
try {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string' },
      'heartbeat-budget': { type: 'string' },
      seconds: { type: 'string' },
      'tls-seconds': { type: 'string' },
      'tls-sample': { type: 'string' },
      'agent-seconds': { type: 'string' },
      'scrape-targets': { type: 'string' },
      'scrape-seconds': { type: 'string' },
      'dash-seconds': { type: 'string' },
      'dash-servers': { type: 'string' },
      'dash-steady': { type: 'string' },
      'soak-seconds': { type: 'string' },
      frames: { type: 'string' },
      'state-mb': { type: 'string' },
      'net-mb': { type: 'string' },
      'proxy-seconds': { type: 'string' },
      'proxy-streams': { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const only = new Set(
    (values.only ?? STEPS.join(','))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const s of only) if (!STEPS.includes(s)) throw new Error(`unknown step "${s}" in --only`);
  args = {
    agents: intFlag(values.agents, 'agents', 1000, 1, 20_000),
    heartbeatBudget:
      values['heartbeat-budget'] === undefined
        ? undefined
        : intFlag(values['heartbeat-budget'], 'heartbeat-budget', 2000, 1, 1_000_000),
    seconds: intFlag(values.seconds, 'seconds', 30, 1, 600),
    tlsSeconds: intFlag(values['tls-seconds'], 'tls-seconds', 60, 1, 600),
    tlsSample: intFlag(values['tls-sample'], 'tls-sample', 50, 1, 1000),
    agentSeconds: intFlag(values['agent-seconds'], 'agent-seconds', 30, 1, 600),
    scrapeTargets: intFlag(values['scrape-targets'], 'scrape-targets', 100, 1, 10_000),
    scrapeSeconds: intFlag(values['scrape-seconds'], 'scrape-seconds', 30, 1, 600),
    dashSeconds: intFlag(values['dash-seconds'], 'dash-seconds', 20, 1, 600),
    dashSteady: intFlag(values['dash-steady'], 'dash-steady', 90, 0, 3600),
    dashServers: countsFlag(values['dash-servers'], 'dash-servers', [100, 1000], 0, 20_000),
    soakSeconds: intFlag(values['soak-seconds'], 'soak-seconds', 180, 10, 86_400),
    frames: intFlag(values.frames, 'frames', 200, 1, 10_000),
    stateMb: sizesFlag(values['state-mb'], [100, 1024]),
    netMb: [...new Set(sizesFlag(values['net-mb'], [200, 1024], 'net-mb'))],
    proxySeconds: intFlag(values['proxy-seconds'], 'proxy-seconds', 5, 1, 600),
    proxyStreams: intFlag(values['proxy-streams'], 'proxy-streams', 8, 1, 256),
    runs: intFlag(values.runs, 'runs', 200, 1, 10_000),
    seed: intFlag(values.seed, 'seed', Date.now() % 1_000_000, 0, 2 ** 31),
    only,
  };
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

const log = (line: string) => process.stderr.write(line + '\n');
const ok = (met: boolean) => (met ? '✓' : '✗');
const row = (label: string, figures: string, target = '') =>
  `${label.padEnd(38)}${figures.padEnd(56)}  ${target}`.trimEnd();

// No orphans, whatever happens.
let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  await killAll();
  destroyNetTopologies();
  removeTempDirs();
}
process.on('exit', () => {
  killAllNow();
  destroyNetTopologies();
  removeTempDirs();
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    log(`bench: ${sig}, stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function stopController(proc: YardProcess): Promise<void> {
  await proc.kill();
}

const lines: string[] = [];
const loadAtStart = loadavg();
let failures = 0;
const started = Date.now();

async function step<T>(name: string, run: () => Promise<T>, report: (r: T) => void): Promise<void> {
  log(`▸ ${name}`);
  const t = performance.now();
  try {
    report(await run());
  } catch (err) {
    failures++;
    const msg = err instanceof Error ? err.message : String(err);
    lines.push(row(name, `FAILED: ${msg.split('\n')[0]}`));
    log(`  ${name} failed: ${err instanceof Error ? (err.stack ?? msg) : msg}`);
  } finally {
    log(`  (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
}

try {
  if (args.only.has('fleet')) {
    await step<
      FleetSimResult & { mintMs: number; controllerWarnings: number; controllerLines: number; lastWarnings: string[] }
    >(
      fleetLabel(args.agents, args.heartbeatBudget),
      async () => {
        const { runFleetSim, SimCredentials } = await import('./fleet-sim.js');
        const { fakeHosts } = await import('./hosts.js');
        const ctl = await startController({
          heartbeat: '1s',
          grace: '30s',
          args: args.heartbeatBudget === undefined ? [] : ['--heartbeat-budget', String(args.heartbeatBudget)],
        });
        log(`  controller pid ${ctl.proc.pid} on ${ctl.address}`);
        try {
          const hosts = fakeHosts(args.agents);
          const creds = await SimCredentials.mint(ctl.dataDir, hosts);
          log(`  ${hosts.length} agent certificates minted in ${(creds.mintMs / 1000).toFixed(2)} s`);
          const r = await runFleetSim({
            address: ctl.address,
            credentials: creds,
            control: ctl.control,
            controllerPid: ctl.proc.pid,
            hosts,
            seconds: args.seconds,
            log,
          });
          return {
            ...r,
            mintMs: creds.mintMs,
            controllerWarnings: ctl.proc.warnings,
            controllerLines: ctl.proc.lineCount,
            lastWarnings: [...ctl.proc.lastWarnings],
          };
        } finally {
          await stopController(ctl.proc);
        }
      },
      (r) => {
        const cpuOk = r.steady.cpuPct <= TARGETS.controllerCpuPct;
        const rssOk = mb(r.steady.rssMaxBytes) <= TARGETS.controllerRssMb;
        const note = r.agents === 1000 ? '' : ' (target set for 1000)';
        lines.push(
          row(
            fleetLabel(r.agents, args.heartbeatBudget),
            `CPU ${fmt(r.steady.cpuPct)} % of a core   RSS max ${fmt(mb(r.steady.rssMaxBytes), 0)} MB`,
            `target ≤${TARGETS.controllerCpuPct} % / ≤${TARGETS.controllerRssMb} MB   ${ok(cpuOk)} ${ok(rssOk)}${note}`,
          ),
          row(
            '  heartbeat handling (round trip, lo)',
            `p50 ${fmt(r.rtt.p50, 2)} ms  p99 ${fmt(r.rtt.p99, 2)} ms  max ${fmt(r.rtt.max, 1)} ms`,
            `${r.heartbeatsAcked}/${r.heartbeatsSent} beats acked in the window`,
          ),
          row(
            '  ramp-up (mTLS)',
            `${r.connected}/${r.agents} welcomed in ${fmt(r.rampS)} s`,
            `dial→welcome p50 ${fmt(r.dialToWelcome.p50, 1)} ms  p99 ${fmt(r.dialToWelcome.p99, 1)} ms`,
          ),
          row(
            '  agent certificates',
            `${r.agents} keys and certificates minted from the CA in ${fmt(r.mintMs / 1000, 2)} s`,
            'before the ramp; real agents join with the Join RPC (see tls)',
          ),
          row(
            '  Control API ListServers',
            r.listServersError
              ? `FAILED: ${r.listServersError}`
              : `${r.online}/${r.agents} online (${r.listed} listed)   ${fmt(r.listServersMs, 0)} ms, ${fmt(mb(r.listServersBytes), 2)} MB, ~${fmt(r.listCpuMsPerCall, 0)} ms CPU`,
            r.listServersError ? '✗' : ok(r.online === r.agents),
          ),
          row(
            '  details',
            `RSS idle ${fmt(mb(r.rssIdleBytes), 0)} → ${fmt(mb(r.steady.rssFirstBytes), 0)} → ${fmt(mb(r.steady.rssLastBytes), 0)} MB  heartbeat ${fmt(r.heartbeatBytes.mean / 1024, 1)} KiB avg`,
            `unacked ${r.unacked}  skipped ${r.skipped}  session errors ${r.sessionErrors}`,
          ),
          row(
            '  heartbeats while ListServers runs',
            `p50 ${fmt(r.rttDuringList.p50, 2)} ms  p99 ${fmt(r.rttDuringList.p99, 2)} ms  max ${fmt(r.rttDuringList.max, 1)} ms`,
            `${r.rttDuringList.n} beats over ${fmt(r.listWindowS, 1)} s, 1 call/s`,
          ),
          row('  controller log', `${r.controllerLines} lines, ${r.controllerWarnings} WARN/ERROR`),
          row(
            '  machine during the window',
            `busy ${fmt(r.steady.machineBusyPct, 0)} % of a core in all: controller ${fmt(r.steady.cpuPct, 0)}, bench ${fmt(r.benchCpuPct, 0)}, other ${fmt(Math.max(0, r.steady.machineBusyPct - r.steady.cpuPct - r.benchCpuPct), 0)}`,
            r.steady.machineBusyPct - r.steady.cpuPct - r.benchCpuPct > 20
              ? 'other processes were busy: figures are noisy'
              : '',
          ),
          row(
            '  (bench process itself)',
            `CPU ${fmt(r.benchCpuPct)} % of a core   event-loop delay p99 ${fmt(r.benchLoopDelayP99Ms, 1)} ms`,
            "if high, round trips include the bench's own delay",
          ),
        );
        for (const w of r.lastWarnings) log(`  controller said: ${w}`);
      },
    );
  }

  if (args.only.has('deploy')) {
    await step<DeployBenchResult>(
      `deployments: 1,000 replicas over ${args.agents} simulated agents`,
      async () => {
        const { runDeployBench } = await import('./deploy.js');
        return runDeployBench({ agents: args.agents, deployments: 10, replicasEach: 100, seconds: args.seconds, log });
      },
      (r) => {
        const label = `controller, ${r.replicas} replicas (${r.deployments} deps)`;
        lines.push(
          row(
            label,
            `CPU ${fmt(r.steady.cpuPct)} % of a core   RSS max ${fmt(mb(r.steady.rssMaxBytes), 0)} MB`,
            `same ${r.connected} agents, no deployment: CPU ${fmt(r.baseline.cpuPct)} %   RSS ${fmt(mb(r.baseline.rssMaxBytes), 0)} MB`,
          ),
          row(
            '  placed',
            `${r.replicas} replicas running ${fmt(r.placeS)} s after the first apply`,
            'spread: one per agent per deployment',
          ),
          row(
            '  rolling restart',
            `${r.restartReplicas} replicas (maxSurge 25) on the new version in ${fmt(r.restartS)} s`,
            'the simulated agents start a replica at once',
          ),
        );
      },
    );
  }

  if (args.only.has('etcd')) {
    if (spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status !== 0)
      lines.push(row('controllers on lowdb vs etcd', 'skipped: no `etcd` on the PATH (apt-get install etcd-server)'));
    else
      await step<EtcdBenchResult>(
        `controllers on lowdb vs etcd, ${args.agents} agents`,
        async () => {
          const { runEtcdBench } = await import('./etcd-fleet.js');
          return runEtcdBench({ agents: args.agents, seconds: args.seconds, log });
        },
        (r) => reportEtcd(r),
      );
  }

  if (args.only.has('tls')) {
    await step<TlsBenchResult>(
      `TLS cost, ${args.agents} agents at 1 Hz`,
      async () => {
        const { runTlsBench } = await import('./tls.js');
        return runTlsBench({ agents: args.agents, seconds: args.tlsSeconds, sample: args.tlsSample, log });
      },
      (r) => reportTls(r),
    );
  }

  if (args.only.has('render')) {
    await step<RenderResult>(
      'full frame 160x48, 1000 servers',
      async () => {
        const { runRender } = await import('./render.js');
        return runRender({ servers: 1000, frames: args.frames, cols: 160, rows: 48, history: 60, log });
      },
      (r) => {
        const m = r.main;
        const met = m.frames.p99 < TARGETS.frameMs;
        lines.push(
          row(
            `full frame ${r.cols}x${r.rows}, ${r.servers} servers`,
            `mean ${fmt(m.frames.mean, 2)} ms  p50 ${fmt(m.frames.p50, 2)} ms  p99 ${fmt(m.frames.p99, 2)} ms`,
            `target p99 <${TARGETS.frameMs} ms   ${ok(met)}`,
          ),
          row(
            '  details',
            `first frame ${fmt(r.firstFrameMs, 1)} ms  max ${fmt(m.frames.max, 1)} ms  ${m.frames.n} frames`,
            `${m.visible} cards on screen, ${fmt(m.bytesPerFrame.mean / 1024, 1)} KiB/frame written`,
          ),
          ...r.others.map((o) =>
            row(
              `  ${o.name}`,
              `mean ${fmt(o.frames.mean, 2)} ms  p50 ${fmt(o.frames.p50, 2)} ms  p99 ${fmt(o.frames.p99, 2)} ms`,
              `${o.frames.n} frames${o.checked ? '' : '  (screen did not show it: check)'}`,
            ),
          ),
        );
        if (!m.checked)
          lines.push(
            row('  note', `the header never showed "${r.servers}/${r.servers} online": did it draw the fleet?`),
          );
        log(`  screen top: ${r.firstLines.map((l) => JSON.stringify(l)).join('\n              ')}`);
      },
    );
  }

  if (args.only.has('dash')) {
    await step<DashCostResult>(
      'dashboard 160x48 vs gtop and btop',
      async () => {
        const { runDashboardCost } = await import('./dashboard-cost.js');
        return runDashboardCost({
          servers: args.dashServers,
          warmupS: 5,
          seconds: args.dashSeconds,
          steadyAfterS: args.dashSteady,
          cols: 160,
          rows: 48,
          log,
        });
      },
      (r) => reportDash(r),
    );
  }

  if (args.only.has('agent')) {
    await step<AgentCostResult>(
      'agent sampling at 1 Hz',
      async () => {
        const { runAgentCost } = await import('./agent-cost.js');
        const ctl = await startController({ heartbeat: '1s', grace: '30s' });
        try {
          return await runAgentCost({
            address: ctl.address,
            joinTokenFile: ctl.joinTokenFile,
            control: ctl.control,
            seconds: args.agentSeconds,
            warmupS: 5,
            log,
          });
        } finally {
          await stopController(ctl.proc);
        }
      },
      (r) => {
        const cpuOk = r.usage.cpuPct <= TARGETS.agentCpuPct;
        const rssOk = mb(r.usage.rssMaxBytes) <= TARGETS.agentRssMb;
        lines.push(
          row(
            'agent sampling at 1 Hz',
            `CPU ${fmt(r.usage.cpuPct, 2)} % of a core   RSS max ${fmt(mb(r.usage.rssMaxBytes), 0)} MB`,
            `target ≤${TARGETS.agentCpuPct} % / ≤${TARGETS.agentRssMb} MB   ${ok(cpuOk)} ${ok(rssOk)}`,
          ),
          row(
            '  details',
            `${r.gpus} GPUs, ${r.cores} cores reported; ${r.online ? 'online' : 'NOT online'} at the end`,
            `child processes ${fmt(r.usage.childrenCpuPct, 2)} % of a core, ${r.linesLogged} log lines`,
          ),
          row(
            '  machine during the window',
            `busy ${fmt(r.usage.machineBusyPct, 0)} % of a core in all`,
            r.usage.machineBusyPct > 25 ? 'other processes were busy: figures are noisy' : '',
          ),
        );
        for (const w of r.warnings) log(`  agent said: ${w}`);
      },
    );
  }

  if (args.only.has('scrape')) {
    const title = `controller, ${args.scrapeTargets} scraped hosts @ 5 s`;
    await step<ScrapeCostResult>(
      title,
      async () => {
        const { runScrapeCost } = await import('./scrape.js');
        return runScrapeCost({
          targets: args.scrapeTargets,
          intervalS: 5,
          seconds: args.scrapeSeconds,
          warmupS: 5,
          log,
        });
      },
      (r) => {
        lines.push(
          row(
            title,
            `CPU ${fmt(r.scraping.cpuPct, 2)} % of a core   RSS max ${fmt(mb(r.scraping.rssMaxBytes), 0)} MB`,
            `idle: CPU ${fmt(r.idle.cpuPct, 2)} %   RSS max ${fmt(mb(r.idle.rssMaxBytes), 0)} MB`,
          ),
          row(
            '  details',
            `${fmt(r.pollsPerSecond, 1)} polls/s of a ${fmt(r.pageBytes / 1024, 0)} KB page; ${r.online}/${args.scrapeTargets} online at the end`,
            r.scraping.machineBusyPct > 150 ? 'the machine was busy: figures are noisy' : '',
          ),
        );
      },
    );
  }

  if (args.only.has('migrate')) {
    for (const stateMb of args.stateMb) {
      await step<MigrationResult>(
        `migration, ${stateMb} MB state`,
        async () => {
          const { runMigration } = await import('./migration.js');
          return runMigration({ stateMb, log });
        },
        (r) => reportMigration(r),
      );
    }
  }

  if (args.only.has('net')) {
    const { netTopologyAvailable } = await import('./net-topology.js');
    const missing = netTopologyAvailable();
    if (missing) lines.push(row('migration across the shaped network', `skipped: ${missing}`));
    else
      for (const stateMb of args.netMb) {
        await step<NetMigrationResult>(
          `network, ${stateMb} MB state`,
          async () => {
            const { runNetMigration } = await import('./net.js');
            // Over the 100 Mbit/s link the relay takes 18 s per 200 MB: measured at the small sizes only.
            const largest = stateMb === Math.max(...args.netMb);
            return runNetMigration({ stateMb, relay: stateMb <= 300, tlsCost: largest, precopy: largest, log });
          },
          (r) => reportNet(r),
        );
      }
  }

  if (args.only.has('soak')) {
    await step<SoakResult>(
      'soak: the wall, a churning fleet',
      async () => {
        const { runSoak, SOAK_DEFAULTS } = await import('./soak.js');
        return runSoak({ ...SOAK_DEFAULTS, seconds: args.soakSeconds, log });
      },
      (r) => reportSoak(r),
    );
  }

  if (args.only.has('proxy')) {
    await step<ProxyBenchResult>(
      'proxy vs direct and haproxy',
      async () => {
        const { runProxyBench } = await import('./proxy.js');
        return runProxyBench({ streams: args.proxyStreams, seconds: args.proxySeconds, log });
      },
      (r) => reportProxy(r),
    );
  }

  if (args.only.has('chaos')) {
    await step<{ totals: ChaosTotals; table: string[] }>(
      `fault injection, ${args.runs} migrations`,
      async () => {
        const { runChaosBench, chaosTable, chaosTotals } = await import('./chaos.js');
        const r = await runChaosBench({ runs: args.runs, seed: args.seed, log });
        return { totals: chaosTotals(r.runs), table: chaosTable(r) };
      },
      (r) => reportChaos(r),
    );
  }
} finally {
  await cleanup();
}

/** The machine's busy CPU over a window, and whether processes outside the benchmark made it noisy. */
function busy(machinePct: number, oursPct: number): string {
  const other = Math.max(0, machinePct - oursPct);
  return `machine busy ${fmt(machinePct, 0)} % of a core, ${fmt(other, 0)} outside the bench${other > 20 ? ': noisy' : ''}`;
}

/** Per agent: what a steady window costs over the idle one, divided by the agents welcomed. */
function perAgent(idle: ProcUsage, steady: ProcUsage, agents: number): { cpuPct: number; rssBytes: number } {
  return { cpuPct: (steady.cpuPct - idle.cpuPct) / agents, rssBytes: (steady.rssMaxBytes - idle.rssMaxBytes) / agents };
}

/** lowdb against etcd at the same fleet size, the per-agent cost, and what it comes to at 10,000 agents. */
function reportEtcd(r: EtcdBenchResult): void {
  const { lowdb, etcd } = r;
  const a = lowdb.sim;
  const b = etcd.sim;
  const pair = (f: (x: typeof a) => string) => `lowdb ${f(a)}  |  etcd ${f(b)}`;
  const usage = (u: { cpuPct: number; rssMaxBytes: number }) => `${fmt(u.cpuPct)} %, ${fmt(mb(u.rssMaxBytes), 0)} MB`;
  const etcdSum = (w: EtcdWindow) => w.members.reduce((sum, m) => sum + m.cpuPct, 0);
  const etcdRss = (w: EtcdWindow) => w.members.reduce((sum, m) => sum + m.rssMaxBytes, 0);
  const fine = a.connected === r.agents && b.connected === r.agents && etcd.standbyHeld;
  if (!fine) failures++;
  const lowAgent = perAgent(lowdb.idle, a.steady, a.connected);
  const leadAgent = perAgent(etcd.idle, b.steady, b.connected);
  // Below idle is noise (etcd's own raft ticks dominate at this size): counted as nothing.
  const etcdAgent = Math.max(0, etcdSum(etcd.steadyEtcd) - etcdSum(etcd.idleEtcd)) / b.connected;
  const standbyAgent = Math.max(0, etcd.steadyEtcd.standby.cpuPct - etcd.idleEtcd.standby.cpuPct) / b.connected;
  const putsAgent = (etcd.steadyEtcd.putsPerS - etcd.idleEtcd.putsPerS) / b.connected;
  const dbAgent = etcd.steadyEtcd.dbBytesPerS / b.connected;
  const gc = etcd.afterGc;
  const gcAgent = (who: 'leader' | 'follower') => (gc.loaded[who].rss - gc.idle[who].rss) / b.connected;
  const heapAgent = (who: 'leader' | 'follower') => (gc.loaded[who].heapUsed - gc.idle[who].heapUsed) / b.connected;
  const at = (base: number, slope: number, n = 10_000) => base + slope * n;
  const rssAt = (idle: number, slope: number) => mb(at(idle, slope));
  // All the bench's processes on this machine, per agent: where the simulator (or the machine) runs out.
  const simAgent = Math.max(a.benchCpuPct / a.connected, b.benchCpuPct / b.connected);
  const allAgent = simAgent + leadAgent.cpuPct + standbyAgent + etcdAgent;
  const machinePct = cpus().length * 100;
  lines.push(
    row(
      `lowdb vs etcd, ${r.agents} agents at 1 Hz`,
      'lowdb: one controller  |  etcd: 3 members, a leader and a follower',
      `on etcd every agent dials the follower, which relays to the leader   ${ok(fine)}`,
    ),
    row(
      '  controller CPU, RSS max',
      pair((x) => usage(x.steady)),
      `idle: lowdb ${usage(lowdb.idle)}  |  etcd ${usage(etcd.idle)}`,
    ),
    row(
      '  heartbeat round trip p50 / p99',
      pair((x) => `${fmt(x.rtt.p50, 2)} / ${fmt(x.rtt.p99, 1)} ms`),
      `acked ${a.heartbeatsAcked}/${a.heartbeatsSent}  |  ${b.heartbeatsAcked}/${b.heartbeatsSent}`,
    ),
    row(
      '  ramp-up',
      pair((x) => `${x.connected}/${x.agents} in ${fmt(x.rampS)} s`),
      `dial→welcome p99 ${fmt(a.dialToWelcome.p99, 0)}  |  ${fmt(b.dialToWelcome.p99, 0)} ms; errors ${a.sessionErrors}  |  ${b.sessionErrors}`,
    ),
    row(
      '  Control API ListServers',
      pair((x) => (x.listServersError ? `FAILED: ${x.listServersError}` : `${fmt(x.listServersMs, 0)} ms`)),
      `online ${a.online}  |  ${b.online}`,
    ),
    row(
      '  follower controller (etcd)',
      usage(etcd.steadyEtcd.standby),
      `idle ${usage(etcd.idleEtcd.standby)}; ${etcd.standbyHeld ? 'followed throughout' : 'TOOK OVER during the run'}`,
    ),
    row(
      '  etcd members, CPU and RSS max',
      `${etcd.steadyEtcd.members.map(usage).join(';  ')}`,
      `sum ${fmt(etcdSum(etcd.steadyEtcd))} %, ${fmt(mb(etcdRss(etcd.steadyEtcd)), 0)} MB; idle sum ${fmt(etcdSum(etcd.idleEtcd))} %`,
    ),
    row(
      '  etcd writes',
      `${fmt(etcd.steadyEtcd.putsPerS)} keys/s, ${fmt(etcd.steadyEtcd.proposalsPerS)} raft proposals/s`,
      `idle ${fmt(etcd.idleEtcd.putsPerS)} keys/s, ${fmt(etcd.idleEtcd.proposalsPerS)} proposals/s`,
    ),
    row(
      '  etcd database',
      `${fmt(mb(etcd.steadyEtcd.dbBytes), 1)} MB in use at the end, +${fmt((etcd.steadyEtcd.dbBytesPerS * 60) / 1024, 0)} KB a minute`,
      `the leader compacts every 5 min: about ${fmt((etcd.steadyEtcd.dbBytesPerS * 300) / 2 ** 20, 1)} MB of history between compactions`,
    ),
    row(
      '  per agent (steady − idle)',
      `lowdb ${fmt(lowAgent.cpuPct * 1000, 2)} %/1000, ${fmt(lowAgent.rssBytes / 1024, 0)} KB  |  etcd leader ${fmt(leadAgent.cpuPct * 1000, 2)} %/1000, ${fmt(leadAgent.rssBytes / 1024, 0)} KB`,
      `follower ${fmt(standbyAgent * 1000, 2)} %/1000, ${fmt((etcd.steadyEtcd.standby.rssMaxBytes - etcd.idleEtcd.standby.rssMaxBytes) / b.connected / 1024, 0)} KB, etcd ${fmt(etcdAgent * 1000, 2)} %/1000, ${fmt(putsAgent, 3)} keys/s`,
    ),
    row(
      '  held after a full GC (RSS)',
      `leader ${fmt(mb(gc.idle.leader.rss), 0)} → ${fmt(mb(gc.loaded.leader.rss), 0)} MB, ${fmt(gcAgent('leader') / 1024, 0)} KB/agent (heap ${fmt(heapAgent('leader') / 1024, 0)} KB)  |  follower ${fmt(mb(gc.idle.follower.rss), 0)} → ${fmt(mb(gc.loaded.follower.rss), 0)} MB, ${fmt(gcAgent('follower') / 1024, 0)} KB/agent`,
      `10,000 agents: leader ${fmt(mb(gc.idle.leader.rss + 10_000 * gcAgent('leader')), 0)} MB; ${fmt(mb(gc.idle.follower.rss + 10_000 * gcAgent('follower')), 0)} MB on one follower holding every connection, ${fmt(mb(gc.idle.follower.rss + 5_000 * gcAgent('follower')), 0)} MB each on two`,
    ),
    row(
      '  10,000 agents, 1 Hz (extrapolated)',
      `lowdb ${fmt(at(lowdb.idle.cpuPct, lowAgent.cpuPct), 0)} %, ${fmt(rssAt(lowdb.idle.rssMaxBytes, lowAgent.rssBytes), 0)} MB  |  etcd leader ${fmt(at(etcd.idle.cpuPct, leadAgent.cpuPct), 0)} %, ${fmt(rssAt(etcd.idle.rssMaxBytes, leadAgent.rssBytes), 0)} MB`,
      `etcd ${fmt(at(etcdSum(etcd.idleEtcd), etcdAgent), 0)} % (3 members), ${fmt(at(etcd.idleEtcd.putsPerS, putsAgent), 0)} keys/s, +${fmt(mb(dbAgent * 10_000 * 3600), 0)} MB/h; goal per controller: 100 %, 1024 MB`,
    ),
    row(
      '  10,000 agents, 2,000 beats/s',
      `lowdb ${fmt(at(lowdb.idle.cpuPct, lowAgent.cpuPct, 2000), 0)} %  |  etcd leader ${fmt(at(etcd.idle.cpuPct, leadAgent.cpuPct, 2000), 0)} %, RSS as above`,
      'the default heartbeat budget (1 beat / 5 s each), CPU taken as per beat',
    ),
    row(
      '  simulator (bench process) CPU',
      pair((x) => `${fmt(x.benchCpuPct, 0)} %, loop delay p99 ${fmt(x.benchLoopDelayP99Ms, 0)} ms`),
      `one core at ~${fmt(100 / simAgent, 0)} agents; the machine's ${machinePct} % at ~${fmt(machinePct / allAgent, 0)} with all of the etcd side`,
    ),
    row(
      '  machine during the windows',
      pair((x) => `busy ${fmt(x.steady.machineBusyPct, 0)} %`),
      `other (not the bench): ${fmt(Math.max(0, a.steady.machineBusyPct - a.steady.cpuPct - a.benchCpuPct), 0)}  |  ${fmt(Math.max(0, b.steady.machineBusyPct - b.steady.cpuPct - b.benchCpuPct - etcdSum(etcd.steadyEtcd) - etcd.steadyEtcd.standby.cpuPct), 0)} % of a core`,
    ),
    row(
      '  (method)',
      `${r.agents} certificates minted once (${fmt(r.mintMs / 1000, 1)} s), one CA for both sides`,
      'lowdb first, then etcd; per agent: the steady window over a 3 s idle one, linear',
    ),
  );
  for (const w of [...lowdb.lastWarnings, ...etcd.lastWarnings]) log(`  controller said: ${w}`);
}

function reportDash(r: DashCostResult): void {
  const isMeasured = (x: object): x is Measured => 'usage' in x;
  const gtop = isMeasured(r.gtop) ? r.gtop : undefined;
  const usage = (m: Measured) =>
    `CPU ${fmt(m.usage.cpuPct, 1)} % of a core   RSS max ${fmt(mb(m.usage.rssMaxBytes), 0)} MB`;
  const size = `${r.cols}x${r.rows}`;
  for (const d of r.dashboards) {
    const label = `dashboard ${size}, ${d.servers} servers`;
    if (!('usage' in d)) {
      lines.push(row(label, `FAILED: ${d.error}`, '✗'));
      failures++;
      continue;
    }
    const run = d as DashboardRun;
    const targets: string[] = [];
    const cpuTarget = TARGETS.dashCpuPct[run.servers];
    if (cpuTarget !== undefined) targets.push(`CPU ≤ ${cpuTarget} %   ${ok(run.usage.cpuPct <= cpuTarget)}`);
    if (run.servers === 100)
      targets.push(`RSS <${TARGETS.dashRssMb} MB   ${ok(mb(run.usage.rssMaxBytes) < TARGETS.dashRssMb)}`);
    // gtop's own process: its `ps` children (systeminformation) are shown apart, not counted.
    if (run.servers === 100 && gtop)
      targets.push(
        `(gtop ${fmt(gtop.usage.cpuPct, 1)} %, ${fmt(gtop.usage.cpuPct + gtop.usage.childrenCpuPct, 1)} with its children)`,
      );
    lines.push(
      row(label, usage(run), targets.length ? `target ${targets.join('   ')}` : ''),
      ...firstRow(run),
      row(
        '  launch',
        `whole fleet and a host's numbers on screen ${fmt(run.startS, 2)} s after spawn`,
        `target ≤ ${TARGETS.dashLaunchS} s   ${ok(run.startS <= TARGETS.dashLaunchS)}`,
      ),
      row(
        '  details',
        `${run.mode}, "${run.onlineText}" on screen ${ok(run.allOnline)}`,
        `${fmt(run.writesPerS, 1)} writes/s, ${fmt(run.bytesPerS / 1024, 1)} KiB/s to the pty, RSS ${fmt(mb(run.usage.rssFirstBytes), 0)} → ${fmt(mb(run.usage.rssLastBytes), 0)} MB`,
      ),
      row(
        '  same window, fleet at 1 Hz',
        `${run.controllerCpuPct === undefined ? 'controller: in the dashboard' : `controller ${fmt(run.controllerCpuPct, 1)} %`}, simulated fleet (bench) ${fmt(run.benchCpuPct, 1)} % of a core`,
        busy(run.usage.machineBusyPct, run.usage.cpuPct + (run.controllerCpuPct ?? 0) + run.benchCpuPct),
      ),
      ...run.notes.map((n) => row('  note', n)),
    );
    log(`  screen top (${d.servers}): ${run.screenTop.map((l) => JSON.stringify(l)).join('\n                   ')}`);
  }
  for (const t of [r.gtop, r.btop]) {
    const label = `${t.name} ${size}, this host`;
    if ('skipped' in t) lines.push(row(label, `skipped: ${t.skipped}`));
    else if ('error' in t) lines.push(row(label, `FAILED: ${t.error}`));
    else {
      lines.push(
        row(
          label,
          usage(t),
          `its children ${fmt(t.usage.childrenCpuPct, 1)} % more; ${fmt(t.writesPerS, 1)} writes/s, ${fmt(t.bytesPerS / 1024, 1)} KiB/s to the pty`,
        ),
        ...firstRow(t),
        row(
          '  ran as',
          t.how.length > 54 ? `…${t.how.slice(-53)}` : t.how,
          busy(t.usage.machineBusyPct, t.usage.cpuPct + t.usage.childrenCpuPct),
        ),
      );
      log(`  screen top (${t.name}): ${t.screenTop.map((l) => JSON.stringify(l)).join('\n                   ')}`);
    }
  }
  const windows =
    r.steadyAfterS > 0
      ? `${r.seconds} s from ${r.steadyAfterS} s after its first screen (steady; first window: ${r.seconds} s after ${r.warmupS} s)`
      : `${r.seconds} s after ${r.warmupS} s of warm-up`;
  lines.push(row('  (method)', `each alone in its pty: ${windows}, own pid, /proc`, '100 % = one core'));
}

/** The first window's CPU, when the headline is the steady one (a Node program's first minute compiles its hot code). */
function firstRow(m: Measured): string[] {
  if (!m.first) return [];
  return [
    row(
      '  first window',
      `CPU ${fmt(m.first.cpuPct, 1)} % of a core, RSS max ${fmt(mb(m.first.rssMaxBytes), 0)} MB`,
      `the headline window starts ${fmt(m.windowAtS, 0)} s after its first screen`,
    ),
  ];
}

function reportTls(r: TlsBenchResult): void {
  const m = r.mtls.sim;
  const p = r.plaintext.sim;
  const ratio = m.steady.cpuPct / p.steady.cpuPct;
  const met = ratio <= TARGETS.tlsCpuRatio;
  const allIn = m.connected === r.agents && p.connected === r.agents;
  const aloneFailed = r.mtls.alone.failed + r.plaintext.alone.failed;
  if (!met || !allIn || r.joins.failed || aloneFailed) failures++;
  const note = r.agents === 1000 ? '' : ' (target set for 1000)';
  const sides = (f: (s: FleetSimResult) => string) => `mTLS ${f(m)}   plaintext ${f(p)}`;
  lines.push(
    row(
      `TLS cost, ${r.agents} agents at 1 Hz`,
      sides((s) => `CPU ${fmt(s.steady.cpuPct)} %`),
      `mTLS/plaintext ${fmt(ratio, 2)}×  target ≤ ${TARGETS.tlsCpuRatio}×   ${ok(met)}${note}`,
    ),
    row(
      '  controller RSS max',
      sides((s) => `${fmt(mb(s.steady.rssMaxBytes), 0)} MB`),
      'over the steady window',
    ),
    row(
      '  heartbeat round trip (lo), p50/p99',
      sides((s) => `${fmt(s.rtt.p50, 2)}/${fmt(s.rtt.p99, 2)} ms`),
      `acked ${m.heartbeatsAcked}/${m.heartbeatsSent} and ${p.heartbeatsAcked}/${p.heartbeatsSent} in the windows`,
    ),
    row(
      '  dial→welcome alone, p50/p99',
      `mTLS ${fmt(r.mtls.alone.dialToWelcome.p50, 1)}/${fmt(r.mtls.alone.dialToWelcome.p99, 1)} ms   plaintext ${fmt(r.plaintext.alone.dialToWelcome.p50, 1)}/${fmt(r.plaintext.alone.dialToWelcome.p99, 1)} ms`,
      `${r.mtls.alone.dialToWelcome.n} sessions one at a time, quiet controller${aloneFailed ? `; ${aloneFailed} failed ✗` : ''}`,
    ),
    row(
      '  dial→welcome in the ramp, p50/p99',
      sides((s) => `${fmt(s.dialToWelcome.p50, 1)}/${fmt(s.dialToWelcome.p99, 1)} ms`),
      `50 dialled every 500 ms; ${m.connected} and ${p.connected}/${r.agents} welcomed   ${ok(allIn)}`,
    ),
    row(
      `  join (Join RPC), ${r.joins.total.n} agents`,
      `p50 ${fmt(r.joins.total.p50, 1)} ms  p99 ${fmt(r.joins.total.p99, 1)} ms`,
      `key+CSR p50 ${fmt(r.joins.keyAndCsr.p50, 1)} ms, Join call p50 ${fmt(r.joins.rpc.p50, 1)} ms (new channel)${r.joins.failed ? `; ${r.joins.failed} failed ✗` : ''}`,
    ),
    row(
      '  fleet certificates (bench shortcut)',
      `${r.agents} minted from the CA in ${fmt(r.mintMs / 1000, 2)} s`,
      `batches of ${r.mintBatch} in parallel, before the ramp`,
    ),
    row(
      '  bench process (simulated agents)',
      sides((s) => `CPU ${fmt(s.benchCpuPct, 0)} %`),
      sides((s) => `loop p99 ${fmt(s.benchLoopDelayP99Ms, 1)} ms`),
    ),
    row(
      '  machine during the windows',
      sides((s) => `busy ${fmt(s.steady.machineBusyPct, 0)} %`),
      [m, p].some((s) => s.steady.machineBusyPct - s.steady.cpuPct - s.benchCpuPct > 20)
        ? 'other processes were busy: figures are noisy'
        : '% of a core in all',
    ),
    row(
      '  (method)',
      `${fmt(m.steady.windowS, 0)} s steady window each; mTLS first, then plaintext`,
      'one controller process at a time (controller-proc.js), same hosts and ramp',
    ),
  );
  for (const w of [...r.mtls.lastWarnings, ...r.plaintext.lastWarnings]) log(`  controller said: ${w}`);
  if (m.sessionErrors || p.sessionErrors)
    lines.push(row('  note', `session errors: mTLS ${m.sessionErrors}, plaintext ${p.sessionErrors}`));
}

function reportSoak(r: SoakResult): void {
  const growth = r.rssEndBytes / r.rssStartBytes;
  const flat = growth <= TARGETS.soakRssGrowth;
  if (!flat) failures++;
  const perHost = r.heartbeats / r.pool;
  lines.push(
    row(
      'soak: the wall, a churning fleet',
      `RSS ${fmt(mb(r.rssStartBytes), 0)} MB warm → ${fmt(mb(r.rssEndBytes), 0)} MB after ${fmt(r.seconds, 0)} s (max ${fmt(mb(r.rssMaxBytes), 0)})`,
      `target end ≤ ${TARGETS.soakRssGrowth}× warm   ${ok(flat)}`,
    ),
    row(
      '  RSS every 10 s (MB)',
      r.rssTrace.map(([, b]) => fmt(mb(b), 0)).join(' '),
      `first screen ${fmt(mb(r.rssFirstBytes), 0)} MB; wall CPU ${fmt(r.cpuPct, 1)} % of a core`,
    ),
    row(
      '  churn in the window',
      `${r.departures} hosts left, ${r.arrivals} joined (${r.hosts} live of ${r.pool})`,
      'a day of one reboot a minute: 1,440',
    ),
    row('  pages turned', `${r.pageTurns}`, 'a day at 15 s a page: 5,760'),
    row(
      '  workload snapshots (warm-up too)',
      `${r.workloadSnapshots}, 2 workloads changing in each`,
      'a day of a change every 10 s: 8,640',
    ),
    row(
      '  heartbeats (warm-up too)',
      `${r.heartbeats} (${fmt(perHost, 0)} a host identity, ${fmt(perHost / 240, 1)} ring-fills)`,
      'rings hold 240: their size, not a day of samples, bounds them',
    ),
    ...(r.errors ? [row('  note', `${r.errors} simulated sessions failed`)] : []),
  );
  log(`  screen top (soak): ${r.screenTop.map((l) => JSON.stringify(l)).join('\n                   ')}`);
}

function reportMigration(r: MigrationResult): void {
  const rate = mb(r.transferBytes) / (r.transferMs / 1000);
  const plainMs = Math.min(...r.plainMs);
  const plainRate = mb(r.plainBytes) / (plainMs / 1000);
  const budget = TARGETS.downtimeFactor * (r.checkpointMs + r.transferMs + r.restoreMs);
  const rateOk = rate >= TARGETS.transferOfPlain * plainRate;
  const downOk = r.downtimeMs <= budget;
  const committed = r.phase === 'committed';
  const t = r.timeline;
  const span = (a?: number, b?: number) => (a !== undefined && b !== undefined ? b - a : Number.NaN);
  const rateOf = (ms: number) => fmt(mb(r.transferBytes) / (ms / 1000), 0);
  const upMs = span(t.transferring, t.uploadDone);
  const downMs = span(t.downloadFirst, t.downloadSent);
  const cpu = (c?: MigrationResult['cpuUpload']) =>
    c
      ? `controller ${fmt(c.controller, 0)}, bench-a ${fmt(c.source, 0)}, bench-b ${fmt(c.target, 0)} % of a core`
      : 'n/a';
  const machine = (c?: MigrationResult['cpuUpload']) => {
    if (!c) return '';
    const other = c.machine - c.controller - c.source - c.target;
    return `machine busy ${fmt(c.machine, 0)} % of a core${other > 30 ? `, ${fmt(other, 0)} elsewhere: noisy` : ''}`;
  };
  lines.push(
    row(
      `migration, ${r.stateMb} MB state (checkpoint)`,
      `checkpoint ${fmt(r.checkpointMs, 0)} ms  transfer ${fmt(r.transferMs, 0)} ms (${fmt(rate, 0)} MB/s)  restore ${fmt(r.restoreMs, 0)} ms  downtime ${fmt(r.downtimeMs, 0)} ms`,
      `${r.phase}${committed ? '' : `: ${r.error}`}   ${committed ? '✓' : '✗'}`,
    ),
    row(
      '  plain TCP copy, same bytes, lo',
      `${fmt(plainRate, 0)} MB/s (${fmt(mb(r.plainBytes), 0)} MB in ${r.plainMs.map((ms) => fmt(ms, 0)).join(' / ')} ms, best taken)`,
    ),
    row(
      '  transfer rate vs plain copy',
      `${fmt((rate / plainRate) * 100, 1)} % (${fmt(rate, 0)} of ${fmt(plainRate, 0)} MB/s)`,
      `target ≥${TARGETS.transferOfPlain * 100} %   ${ok(rateOk)}`,
    ),
    row(
      '  downtime vs cp+transfer+restore',
      `${fmt(r.downtimeMs, 0)} ms vs ${fmt(budget / TARGETS.downtimeFactor, 0)} ms (×${fmt(r.downtimeMs / (budget / TARGETS.downtimeFactor), 2)})`,
      `target ≤${TARGETS.downtimeFactor}×   ${ok(downOk)}`,
    ),
    row(
      '  timeline (controller side)',
      `checkpoint+pack ${fmt(span(t.checkpointing, t.transferring), 0)} ms, upload ${fmt(upMs, 0)} ms (${rateOf(upMs)} MB/s), hand-off ${fmt(span(t.uploadDone, t.downloadFirst), 0)} ms`,
      `download ${fmt(downMs, 0)} ms (${rateOf(downMs)} MB/s), unpack+install ${fmt(span(t.downloadSent, t.restoring), 0)} ms, start ${fmt(span(t.restoring, t.verifying), 0)} ms`,
    ),
    row(
      '  work resumed on bench-b',
      t.resumed !== undefined
        ? `${fmt(span(t.checkpointing, t.resumed), 0)} ms after the checkpoint signal`
        : 'not seen',
      `verify window ${fmt(r.verifyMs, 0)} ms; committed at ${fmt(span(t.checkpointing, t.end), 0)} ms`,
    ),
    row('  CPU during the upload', cpu(r.cpuUpload), machine(r.cpuUpload)),
    row('  CPU during the download', cpu(r.cpuDownload), machine(r.cpuDownload)),
  );
  for (const w of r.warnings) log(`  ${w}`);
}

function reportNet(r: NetMigrationResult): void {
  const best = (c: PlainCopy) => Math.min(...c.ms);
  const rateOf = (c: PlainCopy) => mb(c.bytes) / (best(c) / 1000);
  const mbitOf = (c: PlainCopy) => (c.bytes * 8) / 1e6 / (best(c) / 1000);
  const copy = (c: PlainCopy) =>
    `${c.from}→${c.to} ${fmt(rateOf(c), 1)} MB/s (${c.ms.map((ms) => fmt(ms / 1000, 2)).join(' / ')} s)`;
  const [ab, actl] = r.plain as [PlainCopy, PlainCopy | undefined];
  const ctlOfCeiling = actl ? (mbitOf(actl) * 1e6) / r.ceilingBps.ctl : Number.NaN;
  const abOfCeiling = (mbitOf(ab) * 1e6) / r.ceilingBps.b;
  // Below the ceiling is the shaping or the machine; above it, no shaping at all.
  const shaped = (!actl || (ctlOfCeiling >= TARGETS.netShapedCtlMin && ctlOfCeiling <= 1.02)) && abOfCeiling <= 1.02;
  if (!shaped) failures++;
  lines.push(
    row(
      `network, ${r.stateMb} MB: plain TCP copy`,
      actl ? `${copy(ab)}   ${copy(actl)}` : copy(ab),
      actl ? `best taken; ${ab.ms.length} and ${actl.ms.length} runs` : `best of ${ab.ms.length}`,
    ),
    row(
      '  shaping check (payload rate)',
      `a→b ${fmt(mbitOf(ab), 0)} Mbit/s of 1000 shaped${actl ? `, a→ctl ${fmt(mbitOf(actl), 1)} of 100` : ''}`,
      `${fmt(abOfCeiling * 100, 0)} %${actl ? ` and ${fmt(ctlOfCeiling * 100, 1)} %` : ''} of tbf's payload ceiling (1448/1514 of the rate)   ${ok(shaped)}`,
    ),
  );
  reportTlsCost(r, rateOf(ab));
  const m = r.moved;
  if (!m) {
    failures++;
    lines.push(row(`network, ${r.stateMb} MB: move a→b`, `FAILED: ${(r.error ?? '').split('\n')[0]}`, '✗'));
    return;
  }
  const committed = m.phase === 'committed';
  if (!committed) failures++;
  const rate = mb(m.transferBytes) / (m.transferMs / 1000);
  const t = m.timeline;
  const span = (x?: number, y?: number) => (x !== undefined && y !== undefined ? y - x : Number.NaN);
  const upMs = span(t.transferring, t.uploadDone);
  const downMs = span(t.downloadFirst, t.downloadSent);
  const mbps = (ms: number) => fmt(mb(m.transferBytes) / (ms / 1000), 1);
  // The controller's CPU over the whole transfer phase (any path: relayed, direct), per GB of state moved.
  const ctlCpuS = ((m.cpuTransfer?.controller ?? Number.NaN) / 100) * ((m.cpuTransfer?.windowMs ?? Number.NaN) / 1000);
  const perGb = ctlCpuS / (m.transferBytes / 1024 ** 3);
  // At rest (agents connected, nothing moving) the controller still handles heartbeats and metrics:
  // the move's own cost is what the transfer phase took above that, for as long.
  const windowS = (m.cpuTransfer?.windowMs ?? Number.NaN) / 1000;
  const idleS = r.ctlIdle ? (r.ctlIdle.cpuS / r.ctlIdle.windowMs) * 1000 * windowS : Number.NaN;
  const movingPerGb = Math.max(0, ctlCpuS - idleS) / (m.transferBytes / 1024 ** 3);
  const ofAb = rate / rateOf(ab);
  const windows = [m.cpuUpload, m.cpuDownload];
  const cpuPair = (f: (c: NonNullable<Moved['cpuUpload']>) => number) =>
    windows.map((c) => (c ? fmt(f(c), 0) : 'n/a')).join('/');
  const noisy = windows.some((c) => c && c.machine - c.controller - c.source - c.target > 30);
  lines.push(
    row(
      `network, ${r.stateMb} MB: move a→b, ${m.transferPath || '?'}`,
      `transfer ${fmt(m.transferMs / 1000, 1)} s (${fmt(rate, 1)} MB/s)  downtime ${fmt(m.downtimeMs / 1000, 1)} s`,
      `checkpoint ${fmt(m.checkpointMs / 1000, 1)} s, restore ${fmt(m.restoreMs / 1000, 1)} s; ${m.phase}${committed ? '' : `: ${m.error}`}   ${ok(committed)}`,
    ),
    row(
      '  transfer vs plain copy a→b',
      `${fmt(ofAb * 100, 1)} % (${fmt(1 / ofAb, 1)}× the plain copy's time)`,
      `issue 13 (direct): ≥ ${TARGETS.netTransferOfPlain * 100} %   ${ok(ofAb >= TARGETS.netTransferOfPlain)}`,
    ),
    ...(m.transferPath === 'direct'
      ? []
      : [
          row(
            '  timeline (controller side)',
            `upload ${fmt(upMs / 1000, 1)} s (${mbps(upMs)} MB/s), hand-off ${fmt(span(t.uploadDone, t.downloadFirst), 0)} ms, download ${fmt(downMs / 1000, 1)} s (${mbps(downMs)} MB/s)`,
            `checkpoint+pack ${fmt(span(t.checkpointing, t.transferring) / 1000, 1)} s, unpack+install ${fmt(span(t.downloadSent, t.restoring) / 1000, 1)} s`,
          ),
        ]),
    row(
      "  controller's link during the move",
      r.ctlLink
        ? `${fmt(mb(r.ctlLink.inBytes), 0)} MB in, ${fmt(mb(r.ctlLink.outBytes), 0)} MB out (${fmt((r.ctlLink.inBytes + r.ctlLink.outBytes) / m.transferBytes, 2)}× the state)`
        : 'n/a',
      `tc's counters, frames and all; ${r.ctlLink?.dropped ?? 'n/a'} packets dropped`,
    ),
    row(
      '  controller CPU per GB moved',
      `${fmt(movingPerGb, 3)} s for the move (${fmt(ctlCpuS, 2)} s over the ${fmt(windowS, 1)} s transfer phase, less ${fmt(idleS, 2)} s at rest)`,
      `issue 13 (direct): ≤ ${TARGETS.netControllerCpuSPerGb} s   ${ok(movingPerGb <= TARGETS.netControllerCpuSPerGb)}; all in: ${fmt(perGb, 3)} s`,
    ),
    row(
      '  CPU, upload / download',
      `controller ${cpuPair((c) => c.controller)}, bench-a ${cpuPair((c) => c.source)}, bench-b ${cpuPair((c) => c.target)}`,
      `% of a core; machine busy ${cpuPair((c) => c.machine)}${noisy ? ': others were busy, noisy' : ''}`,
    ),
  );
  reportPrecopy(r);
  const relay = r.relayed?.moved;
  if (relay && actl) {
    const relayOk = relay.phase === 'committed' && relay.transferPath === 'relay';
    if (!relayOk) failures++;
    const relayRate = mb(relay.transferBytes) / (relay.transferMs / 1000);
    const ofCtl = relayRate / rateOf(actl);
    const rl = r.relayed!.ctlLink;
    lines.push(
      row(
        `network, ${r.stateMb} MB: b cannot reach a`,
        `transfer ${fmt(relay.transferMs / 1000, 1)} s (${fmt(relayRate, 1)} MB/s)  downtime ${fmt(relay.downtimeMs / 1000, 1)} s`,
        `path ${relay.transferPath || '?'}; ${relay.phase}${relay.phase === 'committed' ? '' : `: ${relay.error}`}   ${ok(relayOk)}`,
      ),
      row(
        '  relay vs plain copy a→ctl',
        `${fmt(ofCtl * 100, 1)} % (${fmt(1 / ofCtl, 2)}× the plain copy's time)`,
        `issue 13 (relay, pipelined): ≥ ${TARGETS.netRelayOfPlain * 100} %   ${ok(ofCtl >= TARGETS.netRelayOfPlain)}`,
      ),
      row(
        "  controller's link during the relay",
        `${fmt(mb(rl.inBytes), 0)} MB in, ${fmt(mb(rl.outBytes), 0)} MB out (${fmt((rl.inBytes + rl.outBytes) / relay.transferBytes, 2)}× the state)`,
        `in and out at once: one pass; ${rl.dropped} packets dropped`,
      ),
    );
  }
  lines.push(row('  (network)', `tbf rate/burst/latency both ways: ${r.shaping.join(', ')}`, 'see bench/NET.md'));
  for (const w of r.warnings) log(`  ${w}`);
}

/** What TLS costs the direct transfer: its code a → b with TLS against the same code without. */
function reportTlsCost(r: NetMigrationResult, plainCopyRate: number): void {
  const p = r.peerCopy;
  if (!p) return;
  if (p.error || p.tls.length === 0 || p.plain.length === 0) {
    failures++;
    lines.push(row(`network, ${r.stateMb} MB: TLS cost`, `FAILED: ${(p.error ?? 'no runs').split('\n')[0]}`, '✗'));
    return;
  }
  const best = (runs: { ms: number }[]) => Math.min(...runs.map((x) => x.ms));
  const rate = (runs: { ms: number }[]) => mb(p.bytes) / (best(runs) / 1000);
  const cpuPerGb = (runs: { cpuMs: number }[]) =>
    runs.reduce((sum, x) => sum + x.cpuMs, 0) / runs.length / 1000 / (p.bytes / 1024 ** 3);
  const cost = 1 - rate(p.tls) / rate(p.plain);
  const met = cost <= TARGETS.netTlsCost;
  if (!met) failures++;
  const times = (runs: { ms: number }[]) => runs.map((x) => fmt(x.ms / 1000, 2)).join(' / ');
  lines.push(
    row(
      `network, ${r.stateMb} MB: transfer code a→b`,
      `mTLS ${fmt(rate(p.tls), 1)} MB/s (${times(p.tls)} s)   no TLS ${fmt(rate(p.plain), 1)} MB/s (${times(p.plain)} s)`,
      `best of ${p.tls.length} each, taking turns; archive read on a, unpacked and checked on b`,
    ),
    row(
      '  TLS cost',
      `${fmt(cost * 100, 1)} % of the rate; mTLS ${fmt((100 * rate(p.tls)) / plainCopyRate, 1)} % of the plain TCP copy`,
      `issue 13: ≤ ${TARGETS.netTlsCost * 100} %   ${ok(met)}`,
    ),
    row(
      "  target's CPU per GB",
      `mTLS ${fmt(cpuPerGb(p.tls), 2)} s, no TLS ${fmt(cpuPerGb(p.plain), 2)} s`,
      'decrypting, hashing, parsing and writing: the link, not the CPU, sets the rate',
    ),
  );
}

/** Downtime of the 1 GB pre-copy job, 5 % of it rewritten by its save, with pre-copy and without. */
function reportPrecopy(r: NetMigrationResult): void {
  const pc = r.precopy;
  if (!pc) return;
  const label = 'network, 1 GB job: pre-copy';
  if (pc.error && !pc.off && !pc.on) {
    failures++;
    lines.push(row(label, `FAILED: ${pc.error.split('\n')[0]}`, '✗'));
    return;
  }
  const line = (what: string, x: PrecopyMove | undefined) => {
    if (!x) return row(`  ${what}`, `FAILED${pc.error ? `: ${pc.error.split('\n')[0]}` : ''}`, '✗');
    const m = x.moved;
    const good = m.phase === 'committed' && x.verified;
    if (!good) failures++;
    const p = m.precopy;
    const rounds = p?.performed
      ? `; pre-copy ${p.rounds} rounds, ${fmt(mb(p.bytes), 0)} MB, ${fmt(mb(p.bytesSaved), 0)} MB saved, ${fmt(p.ms / 1000, 1)} s`
      : '';
    return row(
      `  ${what}`,
      `downtime ${fmt(m.downtimeMs / 1000, 2)} s (checkpoint ${fmt(m.checkpointMs / 1000, 2)} s, transfer ${fmt(m.transferMs / 1000, 2)} s of ${fmt(mb(m.transferBytes), 0)} MB, restore ${fmt(m.restoreMs / 1000, 2)} s)`,
      `${m.transferPath || '?'}; ${m.phase}${m.phase === 'committed' ? '' : `: ${m.error}`}; ${x.verified ? 'files verified on b' : `NOT verified: ${x.resumed || 'no word from the job'}`}${rounds}   ${ok(good)}`,
    );
  };
  const on = pc.on;
  const saveMs = on?.saveMs ?? pc.off?.saveMs ?? Number.NaN;
  lines.push(
    row(
      label,
      `the job's own save: ${fmt(saveMs / 1000, 2)} s`,
      '20 × 50 MB random; the save rewrites one file (5 %) and fsyncs it',
    ),
    line('without pre-copy', pc.off),
    line('with pre-copy', on),
  );
  if (!on) return;
  if (!on.moved.precopy?.performed) {
    lines.push(
      row(
        '  pre-copy vs the save time',
        'pre-copy not performed: the record says precopy false',
        `issue 13: downtime ≤ save + ${TARGETS.netPrecopyOverSaveMs / 1000} s   not measured`,
      ),
    );
    return;
  }
  const limit = on.saveMs + TARGETS.netPrecopyOverSaveMs;
  const met = on.moved.downtimeMs <= limit;
  if (!met) failures++;
  lines.push(
    row(
      '  pre-copy vs the save time',
      `downtime ${fmt(on.moved.downtimeMs / 1000, 2)} s against save ${fmt(on.saveMs / 1000, 2)} s + 2 s = ${fmt(limit / 1000, 2)} s${pc.off ? `; without: ${fmt(pc.off.moved.downtimeMs / 1000, 2)} s` : ''}`,
      `issue 13: ≤ save + ${TARGETS.netPrecopyOverSaveMs / 1000} s   ${ok(met)}`,
    ),
  );
}

function reportChaos(r: { totals: ChaosTotals; table: string[] }): void {
  const t = r.totals;
  const held = t.lost === 0 && t.twoHosts === 0 && t.stuck === 0 && t.olderState === 0 && t.corrupt === 0;
  if (!held) failures++;
  lines.push(
    row(
      `fault injection, ${t.runs} migrations`,
      `lost ${t.lost}  two hosts ${t.twoHosts}  stuck ${t.stuck}  older state ${t.olderState}`,
      `target all 0   ${ok(held)}`,
    ),
    ...r.table.map((l) => `  ${l}`),
    row(
      '  (method)',
      'SIGKILL of the target agent, the source agent or the controller',
      'aimed at each phase in turn, random moment within it',
    ),
  );
}

function reportProxy(r: ProxyBenchResult): void {
  const path = (name: string) => r.paths.find((p) => p.name === name);
  const direct = path('direct');
  const yard = path('yard');
  const haproxy = path('haproxy');
  const failed = r.paths.filter((p) => p.error);
  failures += failed.length;
  const mbps = (p?: PathReport) => (p?.throughput ? `${fmt(p.throughput.mbPerS, 0)} MB/s` : 'failed');
  const us = (l?: Latency) => (l ? `p50 ${fmt(l.p50, 0)}  p99 ${fmt(l.p99, 0)}  p99.9 ${fmt(l.p999, 0)}` : 'failed');
  const added = (l?: Latency, base?: Latency) =>
    l && base
      ? `added p50 ${fmt(l.p50 - base.p50, 0)}  p99 ${fmt(l.p99 - base.p99, 0)}  p99.9 ${fmt(l.p999 - base.p999, 0)}   proxy CPU ${fmt(l.proxyCpuUs ?? Number.NaN, 0)} µs each`
      : '';
  const proxies = [yard, haproxy].filter((p): p is PathReport => p !== undefined);

  lines.push(
    row(
      'proxy vs direct and haproxy, lo',
      r.paths.map((p) => `${p.name} ${mbps(p)}`).join('  '),
      `${r.plan.streams} streams × 64 KiB writes, ${r.plan.seconds} × 1 s turns each`,
    ),
    row(
      '  range over the turns (MB/s)',
      r.paths
        .map((p) =>
          p.throughput
            ? `${p.name} ${fmt(Math.min(...p.throughput.turnsMbPerS), 0)}–${fmt(Math.max(...p.throughput.turnsMbPerS), 0)}`
            : `${p.name} failed`,
        )
        .join('  '),
      'turns go round the paths, so noise falls on all',
    ),
  );
  if ('skipped' in r.haproxy) lines.push(row('  yard/haproxy throughput', 'not measured', r.haproxy.skipped));
  else {
    const ratio = (yard?.throughput?.mbPerS ?? Number.NaN) / (haproxy?.throughput?.mbPerS ?? Number.NaN);
    lines.push(
      row(
        '  yard/haproxy throughput',
        `${fmt(ratio * 100, 0)} % (${mbps(yard)} of ${mbps(haproxy)})`,
        `target ≥ ${TARGETS.proxyOfHaproxy * 100} %   ${ok(ratio >= TARGETS.proxyOfHaproxy)}`,
      ),
    );
  }
  lines.push(
    row('  CPU while streaming', 'proxy (CPU s per GB moved), backend, client', '% of a core'),
    ...r.paths.map((p) => {
      const t = p.throughput;
      if (!t) return row(`    ${p.name}`, 'failed');
      const proxy =
        t.proxyCpuPct === undefined
          ? ''
          : `proxy ${fmt(t.proxyCpuPct, 0)} (${fmt(t.proxyCpuPct / 100 / (t.mbPerS / 1024), 2)} s/GB)  `;
      return row(
        `    ${p.name}`,
        `${proxy}backend ${fmt(t.backendCpuPct, 0)}  client ${fmt(t.clientCpuPct, 0)}`,
        `softirq ${fmt(t.softirqPct, 0)}; ${busy(t.machineBusyPct, (t.proxyCpuPct ?? 0) + t.backendCpuPct + t.clientCpuPct + t.softirqPct)}`,
      );
    }),
    row(
      `  persistent, 64 B round trips (µs)`,
      `direct ${us(direct?.persistent)}`,
      `${r.plan.roundTrips} after ${r.plan.warmupRoundTrips} warm-up, one at a time`,
    ),
    ...proxies.map((p) => row(`    ${p.name}`, us(p.persistent), added(p.persistent, direct?.persistent))),
  );
  const addedP99Ms = ((yard?.persistent?.p99 ?? Number.NaN) - (direct?.persistent?.p99 ?? Number.NaN)) / 1000;
  const haproxyAdds =
    haproxy?.persistent && direct?.persistent
      ? ` (haproxy adds ${fmt((haproxy.persistent.p99 - direct.persistent.p99) / 1000, 2)} ms)`
      : '';
  lines.push(
    row(
      '  added p99 (persistent)',
      `${fmt(addedP99Ms, 2)} ms${haproxyAdds}`,
      `target < ${TARGETS.proxyAddedP99Ms} ms   ${ok(addedP99Ms < TARGETS.proxyAddedP99Ms)}`,
    ),
    row(
      '  new connection + 1 round trip (µs)',
      `direct ${us(direct?.fresh)}`,
      `${r.plan.connects} after ${r.plan.warmupConnects} warm-up, one at a time`,
    ),
    ...proxies.map((p) => row(`    ${p.name}`, us(p.fresh), added(p.fresh, direct?.fresh))),
    row(
      '  (method)',
      `client, proxy and backend: 3 processes on ${r.cores} cores`,
      haproxy
        ? 'both proxies one thread on 127.0.0.1; haproxy as shipped (no splice)'
        : 'the proxy: one Node thread on 127.0.0.1',
    ),
  );
  if (!('skipped' in r.haproxy)) lines.push(row('  haproxy', r.haproxy.version));
  for (const p of failed) lines.push(row(`  ${p.name} FAILED`, p.error!.split('\n')[0]!, '✗'));
  for (const w of r.yardWarnings) log(`  yard proxy said: ${w}`);
}

const header = `Switchyard benchmark — ${cpus().length} cores (${cpus()[0]?.model.trim() ?? '?'}), ${fmt(totalmem() / 1024 ** 3, 0)} GiB, Node ${process.version}, ${new Date().toISOString()}, load avg at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`;
process.stdout.write(`\n${header}\n${lines.join('\n')}\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
process.exitCode = failures ? 1 : 0;
