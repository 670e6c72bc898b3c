// The client of the proxy benchmark, in its own process so that neither proxy shares its event
// loop. For every path (direct, yard proxy, haproxy) it measures
//   throughput  N streams of 64 KiB writes into the backend's sink, with the CPU the proxy, the
//               backend and this client used meanwhile (/proc);
//   persistent  64-byte round trips over one connection, one at a time;
//   fresh       connect + one 64-byte round trip, on a new connection each time.
// Each is measured in turns that go round the paths, so a burst of noise on the machine (other
// processes, a busy core) falls on every path alike rather than on whichever ran then.
//   node dist/bench/proxy-client.js '<ClientPlan as JSON>'   prints "result <ClientReport as JSON>"
import { readFileSync } from 'node:fs';
import { parseHostPort, type HostPort } from '../src/core/address.js';
import { clockTicks, cpuSeconds, machineBusySeconds, sleep } from './lib.js';
import type { ClientPlan, ClientReport, PathPlan, PathReport } from './proxy-plan.js';
import { PathProbe } from './proxy-probe.js';
import { Streams } from './proxy-streams.js';

/** Time a path's streams get to reach full speed again at the start of its turn (not measured). */
const RAMP_MS = 250;
const TURN_MS = 1000;

/** The share of `total` that round `r` of `rounds` takes (the shares add up to `total`). */
const share = (total: number, r: number, rounds: number) =>
  Math.floor((total * (r + 1)) / rounds) - Math.floor((total * r) / rounds);

const cpuOf = (pid: number | undefined) => (pid === undefined ? 0 : (cpuSeconds(pid) ?? Number.NaN));

/** Seconds all cores spent in softirq: on loopback that is mostly the kernel moving our own packets. */
function softirqSeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
    return Number(f[7]) / clockTicks();
  } catch {
    return Number.NaN;
  }
}

const usage = (path: PathPlan, plan: ClientPlan) => ({
  proxy: cpuOf(path.proxyPid),
  backend: cpuOf(plan.backendPid),
  client: cpuOf(process.pid),
  machine: machineBusySeconds(),
  softirq: softirqSeconds(),
});

class Client {
  private readonly reports: PathReport[];
  private readonly live: number[];

  constructor(private readonly plan: ClientPlan) {
    this.reports = plan.paths.map((p) => ({ name: p.name }));
    this.live = plan.paths.map((_, i) => i);
  }

  /** Runs `body` for each path still measured; a path that fails keeps its error and drops out. */
  private async eachPath(what: string, body: (i: number, path: PathPlan) => Promise<void>): Promise<void> {
    for (const i of [...this.live]) {
      try {
        await body(i, this.plan.paths[i]!);
      } catch (err) {
        this.reports[i]!.error = `${what}: ${(err as Error).message}`;
        this.live.splice(this.live.indexOf(i), 1);
      }
    }
  }

  async run(): Promise<ClientReport> {
    const targets = this.plan.paths.map((p) => parseHostPort(p.address, p.name));
    await this.throughput(targets);
    const probes = this.plan.paths.map(
      (p, i) => new PathProbe(p.name, targets[i]!, p.proxyPid, this.plan.roundTrips, this.plan.connects),
    );
    try {
      await this.latency(probes);
    } finally {
      for (const p of probes) p.close();
    }
    return { paths: this.reports };
  }

  private async throughput(targets: HostPort[]): Promise<void> {
    const { plan } = this;
    process.stderr.write(`throughput: ${plan.seconds} turns of ${TURN_MS} ms per path\n`);
    const sets = new Map<number, Streams>();
    const spent = plan.paths.map(() => ({
      s: 0,
      bytes: 0,
      turns: [] as number[],
      cpu: { proxy: 0, backend: 0, client: 0, machine: 0, softirq: 0 },
    }));
    try {
      await this.eachPath('throughput', async (i, path) => {
        const set = await Streams.open(path.name, targets[i]!, plan.streams);
        sets.set(i, set);
        set.go();
        await sleep(plan.warmupS * 1000);
        set.pause();
      });
      for (let turn = 0; turn < plan.seconds; turn++) {
        await this.eachPath('throughput', async (i, path) => {
          const set = sets.get(i)!;
          set.go();
          await sleep(RAMP_MS);
          const t0 = process.hrtime.bigint();
          const before = usage(path, plan);
          set.startWindow(t0);
          await sleep(TURN_MS);
          const rate = set.rate();
          const windowS = Number(process.hrtime.bigint() - t0) / 1e9;
          const after = usage(path, plan);
          const u = spent[i]!;
          for (const k of Object.keys(u.cpu) as (keyof typeof u.cpu)[]) u.cpu[k] += after[k] - before[k];
          u.s += windowS;
          set.pause();
          if (!Number.isFinite(rate)) throw new Error(`the backend sent no counts through ${path.name} during a turn`);
          u.bytes += rate * windowS;
          u.turns.push(rate / (1024 * 1024));
        });
      }
      await this.eachPath('throughput', async (i) => {
        await sets.get(i)!.finish();
        const u = spent[i]!;
        const pct = (cpuS: number) => (cpuS / u.s) * 100;
        this.reports[i]!.throughput = {
          mbPerS: u.bytes / u.s / (1024 * 1024),
          turnsMbPerS: u.turns,
          windowS: u.s,
          proxyCpuPct: this.plan.paths[i]!.proxyPid === undefined ? undefined : pct(u.cpu.proxy),
          backendCpuPct: pct(u.cpu.backend),
          clientCpuPct: pct(u.cpu.client),
          machineBusyPct: pct(u.cpu.machine),
          softirqPct: pct(u.cpu.softirq),
        };
      });
    } finally {
      for (const set of sets.values()) set.destroy();
    }
  }

  private async latency(probes: PathProbe[]): Promise<void> {
    const { plan } = this;
    process.stderr.write(`round trips: ${plan.rounds} rounds\n`);
    await this.eachPath('round trips', (i) => probes[i]!.roundTrips(plan.warmupRoundTrips, false));
    for (let r = 0; r < plan.rounds; r++)
      await this.eachPath('round trips', (i) => probes[i]!.roundTrips(share(plan.roundTrips, r, plan.rounds), true));
    for (const p of probes) p.close();
    process.stderr.write(`new connections: ${plan.rounds} rounds\n`);
    await this.eachPath('new connections', (i) => probes[i]!.connects(plan.warmupConnects, false));
    for (let r = 0; r < plan.rounds; r++)
      await this.eachPath('new connections', (i) => probes[i]!.connects(share(plan.connects, r, plan.rounds), true));
    for (const i of this.live) {
      this.reports[i]!.persistent = probes[i]!.persistent.summary();
      this.reports[i]!.fresh = probes[i]!.fresh.summary();
    }
  }
}

const plan = JSON.parse(process.argv[2] ?? '{}') as ClientPlan;
if (!Array.isArray(plan.paths) || !plan.paths.length) {
  process.stderr.write(
    'usage: proxy-client.js \'{"paths":[{"name":"direct","address":"127.0.0.1:PORT"}],...}\' (see ClientPlan in proxy-plan.ts)\n',
  );
  process.exit(2);
}
process.stdout.write(`result ${JSON.stringify(await new Client(plan).run())}\n`);
process.exit(0);
