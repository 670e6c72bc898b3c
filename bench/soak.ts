// Soak: the wall (`yard wall`) in a 160x48 pty against a churning simulated fleet, sped up so a
// few minutes hold a day's worth of churn: hosts leave and come back every second (a day of one
// reboot a minute is 1,440), every host reports changed workloads every second, pages turn every
// 30 ms (a day at 15 s is 5,760 turns), heartbeats come at 10 Hz. Its RSS is read from /proc
// once it is warm (the rings full, every page seen) and at the end: memory must stay flat.
import { fakeHosts } from './hosts.js';
import { SimCredentials, startSimFleet, type SimFleet } from './fleet-sim.js';
import { ProcMonitor, rssBytes, sleep, startController, YARD } from './lib.js';
import { PtyScreen } from './pty-screen.js';

export interface SoakOptions {
  /** Soak window after the warm-up. */
  seconds: number;
  warmupS: number;
  /** Hosts connected at any time, out of `pool` identities that take turns. */
  hosts: number;
  pool: number;
  /** Hosts that leave (and others that join) at each turn of churn. */
  cohort: number;
  churnEveryMs: number;
  heartbeatMs: number;
  workloadsEveryMs: number;
  rotateMs: number;
  cols: number;
  rows: number;
  log: (line: string) => void;
}

export interface SoakResult {
  seconds: number;
  hosts: number;
  pool: number;
  /** Sessions that left and joined during the soak (each turn: `cohort` of each). */
  departures: number;
  arrivals: number;
  heartbeats: number;
  workloadSnapshots: number;
  pageTurns: number;
  /** The wall's RSS at its first screen, once warm, at the end, and the most seen. */
  rssFirstBytes: number;
  rssStartBytes: number;
  rssEndBytes: number;
  rssMaxBytes: number;
  /** [seconds into the soak, RSS] every 10 s. */
  rssTrace: [number, number][];
  cpuPct: number;
  screenTop: string[];
  errors: number;
}

export const SOAK_DEFAULTS = {
  warmupS: 30,
  hosts: 100,
  pool: 150,
  cohort: 10,
  churnEveryMs: 1000,
  heartbeatMs: 100,
  workloadsEveryMs: 1000,
  rotateMs: 30,
  cols: 160,
  rows: 48,
};

export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const { log } = opts;
  const ctl = await startController({ heartbeat: `${opts.heartbeatMs}ms`, grace: '2s' });
  const pool = fakeHosts(opts.pool);
  const cohorts = Math.floor(opts.pool / opts.cohort);
  const liveCohorts = Math.floor(opts.hosts / opts.cohort);
  if (liveCohorts >= cohorts)
    throw new Error(
      `the soak needs more identities than live hosts: --pool ${opts.pool}, ${opts.hosts} hosts in cohorts of ${opts.cohort}`,
    );
  const cohortHosts = (k: number) => pool.slice((k % cohorts) * opts.cohort, (k % cohorts) * opts.cohort + opts.cohort);
  const live: SimFleet[] = [];
  const totals = { heartbeats: 0, workloadSnapshots: 0, errors: 0 };
  const retire = async (fleet: SimFleet) => {
    await fleet.close();
    const c = fleet.counters();
    totals.heartbeats += c.sent;
    totals.workloadSnapshots += c.workloadSnapshots;
    totals.errors += c.errors;
  };
  const dial = (k: number, creds: SimCredentials) =>
    startSimFleet({
      address: ctl.address,
      credentials: creds,
      hosts: cohortHosts(k),
      workloadsEveryMs: opts.workloadsEveryMs,
      batchSize: opts.cohort,
      log: () => {},
    });
  let wall: PtyScreen | undefined;
  try {
    log(
      `  controller pid ${ctl.proc.pid}, heartbeat ${opts.heartbeatMs} ms; ${opts.hosts} hosts from ${opts.pool} identities`,
    );
    const creds = await SimCredentials.mint(ctl.dataDir, pool);
    log(`  ${pool.length} agent certificates minted in ${(creds.mintMs / 1000).toFixed(1)} s`);
    for (let k = 0; k < liveCohorts; k++) live.push(await dial(k, creds));
    wall = new PtyScreen(
      process.execPath,
      [YARD, 'wall', '--data-dir', ctl.dataDir, '--rotate', `${opts.rotateMs}ms`],
      { label: 'yard wall', cols: opts.cols, rows: opts.rows, keepRaw: 4096 },
    );
    await wall.waitFor(/\d+\/\d+ online/, 30_000);
    const rssFirstBytes = rssBytes(wall.pid) ?? Number.NaN;

    // Churn: the oldest cohort leaves, the next identities join; the wall turns pages meanwhile.
    let next = liveCohorts;
    let turns = 0;
    let churning = true;
    const churn = (async () => {
      while (churning) {
        const t = performance.now();
        const leaving = live.shift()!;
        live.push(await dial(next++, creds));
        await retire(leaving);
        turns++;
        await sleep(Math.max(0, opts.churnEveryMs - (performance.now() - t)));
      }
    })();

    log(`  wall pid ${wall.pid}: warming up ${opts.warmupS} s, then soaking ${opts.seconds} s…`);
    await sleep(opts.warmupS * 1000);
    const turnsAtStart = turns;
    const rssStartBytes = rssBytes(wall.pid) ?? Number.NaN;
    const mon = new ProcMonitor(wall.pid, 1000);
    const rssTrace: [number, number][] = [[0, rssStartBytes]];
    const t0 = performance.now();
    for (let s = 10; s <= opts.seconds; s += 10) {
      await sleep(Math.max(0, t0 + s * 1000 - performance.now()));
      if (!wall.running) throw new Error(`the wall exited during the soak (code ${wall.exitCode})`);
      rssTrace.push([s, rssBytes(wall.pid) ?? Number.NaN]);
    }
    await sleep(Math.max(0, t0 + opts.seconds * 1000 - performance.now()));
    const usage = mon.stop();
    const soakTurns = turns - turnsAtStart;
    churning = false;
    await churn;
    if (!wall.running) throw new Error(`the wall exited during the soak (code ${wall.exitCode})`);
    const screen = await wall.waitFor(() => true, 1000, undefined, 'its screen');
    return {
      seconds: usage.windowS,
      hosts: opts.hosts,
      pool: opts.pool,
      departures: soakTurns * opts.cohort,
      arrivals: soakTurns * opts.cohort,
      heartbeats: totals.heartbeats + live.reduce((n, f) => n + f.counters().sent, 0),
      workloadSnapshots: totals.workloadSnapshots + live.reduce((n, f) => n + f.counters().workloadSnapshots, 0),
      pageTurns: Math.floor((usage.windowS * 1000) / opts.rotateMs),
      rssFirstBytes,
      rssStartBytes,
      rssEndBytes: usage.rssLastBytes,
      rssMaxBytes: usage.rssMaxBytes,
      rssTrace,
      cpuPct: usage.cpuPct,
      screenTop: screen
        .split('\n')
        .slice(0, 4)
        .map((l) => l.trimEnd()),
      errors: totals.errors,
    };
  } finally {
    await wall?.stop();
    await Promise.all(live.map((f) => f.close()));
    await ctl.proc.kill();
  }
}
