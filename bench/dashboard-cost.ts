// Dashboard cost: the real `yard` dashboard in a real 160x48 pty, attached to a real controller
// that a simulated fleet (100, then 1,000 agents at 1 Hz) reports to; then gtop (npm) and btop
// (Debian) in the same pty size showing their single host. CPU (percent of one core) and RSS of
// each program's own process (the node or btop pid itself, not a wrapper), from /proc.
//
// Knobs (environment): YARD_BENCH_GTOP=PATH (gtop's bin script, or a folder with
// node_modules/gtop; default: the project's devDependency, then PATH), YARD_BENCH_BTOP=PATH,
// YARD_BENCH_DASH_NODE_FLAGS (node flags for the dashboard only, e.g. --cpu-prof
// --cpu-prof-dir=/tmp/p), YARD_BENCH_DASH_EMBEDDED=1 (measure plain `yard`, controller in the
// same process, instead of an attached dashboard; also the fallback when attaching fails).
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { SimCredentials, startSimFleet, type SimFleet } from './fleet-sim.js';
import { fakeHosts } from './hosts.js';
import {
  freePort,
  ProcMonitor,
  sleep,
  startController,
  tempDir,
  YARD,
  type ProcUsage,
  type YardProcess,
} from './lib.js';
import { PtyScreen } from './pty-screen.js';

export interface DashCostOptions {
  /** Fleet sizes the dashboard watches (100 and 1,000 by default). */
  servers: number[];
  warmupS: number;
  seconds: number;
  /**
   * Seconds after its first screen at which the steady window starts (the headline figure): a
   * Node program spends its first minute compiling hot code and growing its heap, which a wall
   * display running for days does not. 0 measures only the first window.
   */
  steadyAfterS: number;
  cols: number;
  rows: number;
  log: (line: string) => void;
}

export interface Measured {
  name: string;
  /** How the program was run (command line, mode). */
  how: string;
  pid: number;
  usage: ProcUsage;
  /** Bytes the program wrote to its terminal per second in the window. */
  bytesPerS: number;
  /** Terminal writes (data events) per second: about the frame rate. */
  writesPerS: number;
  /** The first lines of its screen at the end of the window. */
  screenTop: string[];
  /** The first window (right after the warm-up) when `usage` is the steady one. */
  first?: ProcUsage;
  /** Seconds after its first screen at which the window of `usage` started. */
  windowAtS: number;
}

export interface DashboardRun extends Measured {
  servers: number;
  connected: number;
  /** 'attached' (yard --data-dir of the running controller), 'connect' (yard --connect), or 'embedded' (fallback). */
  mode: 'attached' | 'connect' | 'embedded';
  /** Whether the header showed "N/N online" at the end of the window. */
  allOnline: boolean;
  /** What the header said about the fleet at the end. */
  onlineText: string;
  /** The controller's own CPU over the same window (the embedded fallback has none apart). */
  controllerCpuPct?: number;
  /** This bench process (the simulated fleet) over the window. */
  benchCpuPct: number;
  /** Seconds from spawning the dashboard to the first screen with the whole fleet online and a host's numbers. */
  startS: number;
  notes: string[];
}

export interface Skipped {
  name: string;
  skipped: string;
}

export interface DashCostResult {
  cols: number;
  rows: number;
  seconds: number;
  warmupS: number;
  steadyAfterS: number;
  dashboards: (DashboardRun | { servers: number; error: string })[];
  gtop: Measured | Skipped | { name: string; error: string };
  btop: Measured | Skipped | { name: string; error: string };
}

/**
 * The first window (after the warm-up), then, when `steadyAfterS` is later, the steady one that
 * starts that long after `shownAt` (its first screen): `usage` is the steady window's.
 */
async function measureWindows(
  app: PtyScreen,
  shownAt: number,
  opts: DashCostOptions,
): Promise<{ usage: ProcUsage; first?: ProcUsage; windowAtS: number; bytesPerS: number; writesPerS: number }> {
  await sleep(Math.max(0, shownAt + opts.warmupS * 1000 - performance.now()));
  const firstAtS = (performance.now() - shownAt) / 1000;
  const first = await measure(app, opts.seconds);
  const wait = shownAt + opts.steadyAfterS * 1000 - performance.now();
  if (opts.steadyAfterS <= 0 || wait < -opts.seconds * 500) return { ...first, windowAtS: firstAtS };
  await sleep(Math.max(0, wait));
  const windowAtS = (performance.now() - shownAt) / 1000;
  const steady = await measure(app, opts.seconds);
  return { ...steady, first: first.usage, windowAtS };
}

/** Measures `app` for `seconds`: its own CPU and RSS (ProcMonitor), bytes and writes to the pty. */
async function measure(
  app: PtyScreen,
  seconds: number,
): Promise<{ usage: ProcUsage; bytesPerS: number; writesPerS: number }> {
  const bytes0 = app.bytes;
  const writes0 = app.writes;
  const mon = new ProcMonitor(app.pid);
  await sleep(seconds * 1000);
  const usage = mon.stop();
  return { usage, bytesPerS: (app.bytes - bytes0) / usage.windowS, writesPerS: (app.writes - writes0) / usage.windowS };
}

/** The executable behind a pid, to check we measure the program and not a wrapper. */
function exeOf(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '?';
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * gtop's bin script: $YARD_BENCH_GTOP (the script, or a directory holding node_modules/gtop),
 * then the project's node_modules, then `gtop` on PATH. Run with this Node, so the pid is node's.
 */
function findGtop(): string | undefined {
  const fromPackage = (pkgJson: string): string | undefined => {
    try {
      const pkg = JSON.parse(readFileSync(pkgJson, 'utf8')) as { bin?: string | Record<string, string> };
      const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.gtop;
      const file = bin ? resolve(dirname(pkgJson), bin) : undefined;
      return file && existsSync(file) ? file : undefined;
    } catch {
      return undefined;
    }
  };
  const override = process.env.YARD_BENCH_GTOP;
  if (override) {
    const p = resolve(override);
    if (existsSync(join(p, 'node_modules/gtop/package.json')))
      return fromPackage(join(p, 'node_modules/gtop/package.json'));
    if (existsSync(join(p, 'package.json'))) return fromPackage(join(p, 'package.json'));
    return existsSync(p) ? p : undefined;
  }
  try {
    return fromPackage(createRequire(import.meta.url).resolve('gtop/package.json'));
  } catch {
    // not a dependency of the project
  }
  return onPath('gtop');
}

/** The dashboard on its own controller fed by the fleet; the embedded one when it cannot attach. */
async function runDashboard(servers: number, opts: DashCostOptions): Promise<DashboardRun> {
  const notes: string[] = [];
  // YARD_BENCH_DASH_EMBEDDED=1 measures plain `yard` (controller and dashboard in one process).
  if (process.env.YARD_BENCH_DASH_EMBEDDED === '1') return runEmbedded(servers, opts, notes);
  const attached = await runAttached(servers, opts, notes);
  if (attached) return attached;
  opts.log(
    '  the dashboard would not attach: measuring an embedded dashboard (it is the controller too) fed by the simulated fleet',
  );
  return runEmbedded(servers, opts, notes);
}

/** The pty every program gets: the bench's size; raw output kept only for error messages (a run lasts minutes). */
const terminal = (opts: DashCostOptions) => ({ cols: opts.cols, rows: opts.rows, keepRaw: 4096 });
const dashNodeFlags = () => (process.env.YARD_BENCH_DASH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const onlineRe = (servers: number) => new RegExp(`\\b${servers}/${servers} online\\b`);
/** A card's CPU meter with a value in it ("CPU ███░░  31%"): real numbers, not the empty first frame. */
const numbersRe = /\bCPU\b[^\n%]*\d%/;
/** How often the launch is looked at: the launch time is known to this much. */
const LAUNCH_POLL_MS = 20;

/** Warm-up, then the window: the dashboard, the controller (when apart) and this process. */
async function measureDashboard(app: PtyScreen, shownAt: number, ctlPid: number | undefined, opts: DashCostOptions) {
  // The controller and this process are measured over the whole run, both windows and between.
  const ctlMon = ctlPid === undefined ? undefined : new ProcMonitor(ctlPid);
  const bench0 = process.cpuUsage();
  const benchT0 = performance.now();
  const m = await measureWindows(app, shownAt, opts);
  const ctlUsage = ctlMon?.stop();
  const benchCpu = process.cpuUsage(bench0);
  const benchCpuPct = ((benchCpu.user + benchCpu.system) / 1000 / (performance.now() - benchT0)) * 100;
  if (!app.running) throw new Error(`the dashboard exited during the window (code ${app.exitCode})`);
  const screen = await app.waitFor(() => true, 1000, undefined, 'its screen');
  const header = screen.split('\n')[0] ?? '';
  return {
    ...m,
    pid: app.pid,
    screenTop: screen
      .split('\n')
      .slice(0, 4)
      .map((l) => l.trimEnd()),
    onlineText: /\d+\/\d+ online/.exec(header)?.[0] ?? '(not in the header)',
    header,
    controllerCpuPct: ctlUsage?.cpuPct,
    benchCpuPct,
  };
}

/** `yard` attached to a running controller (by its data dir, else --connect); undefined when it would not attach. */
async function runAttached(servers: number, opts: DashCostOptions, notes: string[]): Promise<DashboardRun | undefined> {
  const { log } = opts;
  const ctl = await startController({ heartbeat: '1s', grace: '30s' });
  let fleet: SimFleet | undefined;
  let app: PtyScreen | undefined;
  try {
    log(`  controller pid ${ctl.proc.pid} on ${ctl.address}`);
    const hosts = fakeHosts(servers);
    const creds = await SimCredentials.mint(ctl.dataDir, hosts);
    log(`  ${servers} agent certificates minted in ${(creds.mintMs / 1000).toFixed(1)} s`);
    fleet = await startSimFleet({
      address: ctl.address,
      credentials: creds,
      hosts,
      batchSize: 100,
      batchEveryMs: 500,
      log,
    });
    if (fleet.connected < servers) notes.push(`only ${fleet.connected}/${servers} simulated agents were welcomed`);
    // Let every jittered heartbeat start.
    await sleep(2000);

    const online = onlineRe(servers);
    // `yard --data-dir D` attaches to the controller running for D; --no-local-agent keeps a
    // dashboard that did not attach from leaving an agent behind. Then `yard --connect`.
    const attempts: { mode: DashboardRun['mode']; args: string[] }[] = [
      { mode: 'attached', args: ['--data-dir', ctl.dataDir, '--no-local-agent'] },
      { mode: 'connect', args: ['--connect', ctl.address, '--data-dir', ctl.dataDir, '--no-local-agent'] },
    ];
    let mode: DashboardRun['mode'] | undefined;
    let startS = Number.NaN;
    let shownAt = 0;
    for (const attempt of attempts) {
      const t0 = performance.now();
      const candidate = new PtyScreen(process.execPath, [...dashNodeFlags(), YARD, ...attempt.args], {
        label: `yard (${attempt.mode})`,
        ...terminal(opts),
      });
      try {
        const screen = await candidate.waitFor(
          (s) => (online.test(s) && numbersRe.test(s)) || /\(embedded\)/.test(s),
          30_000,
          LAUNCH_POLL_MS,
          `"${servers}/${servers} online" (attached) and a host's CPU`,
        );
        if (/\(embedded\)/.test(screen) || !/\(attached\)/.test(screen))
          throw new Error(`it did not attach: its header reads ${JSON.stringify(screen.split('\n')[0]?.trim())}`);
        app = candidate;
        mode = attempt.mode;
        shownAt = performance.now();
        startS = (shownAt - t0) / 1000;
        break;
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        log(`  yard ${attempt.args.join(' ')}: ${msg.split('\n')[0]}`);
        notes.push(`${attempt.mode} failed: ${msg.split('\n')[0]}`);
        await candidate.stop();
      }
    }
    if (!app || !mode) return undefined;
    log(
      `  dashboard pid ${app.pid} (${exeOf(app.pid)}) ${mode}, fleet and numbers on screen ${startS.toFixed(2)} s after spawn; warming up ${opts.warmupS} s, then measuring${opts.steadyAfterS > 0 ? ` for ${opts.seconds} s, and again ${opts.steadyAfterS} s after its first screen (steady)` : ` for ${opts.seconds} s`}…`,
    );
    const m = await measureDashboard(app, shownAt, ctl.proc.pid, opts);
    const counters = fleet.counters();
    if (counters.errors) notes.push(`${counters.errors} simulated sessions failed`);
    return {
      name: `yard, ${servers} servers`,
      how: `node dist/src/cli/main.js ${mode === 'attached' ? '--data-dir <controller data dir>' : `--connect ${ctl.address}`}`,
      ...m,
      servers,
      connected: fleet.connected,
      mode,
      allOnline: online.test(m.header),
      startS,
      notes,
    };
  } finally {
    await app?.stop();
    await fleet?.close();
    await stopController(ctl.proc);
  }
}

/** Fallback: `yard` with its embedded controller (no local agent) and the simulated fleet dialling it. */
async function runEmbedded(servers: number, opts: DashCostOptions, notes: string[]): Promise<DashboardRun> {
  const { log } = opts;
  const dataDir = tempDir('yard-bench-dash-');
  const address = `127.0.0.1:${await freePort()}`;
  const online = onlineRe(servers);
  const t0 = performance.now();
  const app = new PtyScreen(
    process.execPath,
    [
      ...dashNodeFlags(),
      YARD,
      '--data-dir',
      dataDir,
      '--listen',
      address,
      '--no-local-agent',
      '--heartbeat',
      '1s',
      '--grace',
      '30s',
    ],
    { label: 'yard (embedded)', ...terminal(opts) },
  );
  let fleet: SimFleet | undefined;
  try {
    await app.waitFor(/\(embedded\)/, 30_000);
    // The embedded controller made its CA in dataDir before it drew its first screen.
    const hosts = fakeHosts(servers);
    const creds = await SimCredentials.mint(dataDir, hosts);
    log(`  ${servers} agent certificates minted in ${(creds.mintMs / 1000).toFixed(1)} s`);
    fleet = await startSimFleet({
      address,
      credentials: creds,
      hosts,
      batchSize: 100,
      batchEveryMs: 500,
      log,
    });
    await app.waitFor(online, 30_000);
    const shownAt = performance.now();
    const startS = (shownAt - t0) / 1000;
    log(
      `  dashboard pid ${app.pid} (${exeOf(app.pid)}) embedded on ${address}; warming up ${opts.warmupS} s, then measuring${opts.steadyAfterS > 0 ? ` for ${opts.seconds} s, and again ${opts.steadyAfterS} s after its first screen (steady)` : ` for ${opts.seconds} s`}…`,
    );
    const m = await measureDashboard(app, shownAt, undefined, opts);
    notes.push("embedded dashboard: the figure includes the controller's own work");
    return {
      name: `yard, ${servers} servers`,
      how: `node dist/src/cli/main.js --data-dir <fresh> --listen ${address} --no-local-agent`,
      ...m,
      servers,
      connected: fleet.connected,
      mode: 'embedded',
      allOnline: online.test(m.header),
      startS,
      notes,
    };
  } finally {
    await app.stop();
    await fleet?.close();
  }
}

async function stopController(proc: YardProcess): Promise<void> {
  await proc.kill();
}

/** gtop or btop in the same pty: warm up, then the same measurement. */
async function runTop(
  name: string,
  file: string,
  args: string[],
  ready: (screen: string) => boolean,
  opts: DashCostOptions,
  env: Record<string, string> = {},
): Promise<Measured> {
  const app = new PtyScreen(file, args, { label: name, ...terminal(opts), env });
  try {
    await app.waitFor(ready, 20_000, undefined, 'its first screen');
    const shownAt = performance.now();
    opts.log(
      `  ${name} pid ${app.pid} (${exeOf(app.pid)}); warming up ${opts.warmupS} s, then measuring${opts.steadyAfterS > 0 ? ` for ${opts.seconds} s, and again ${opts.steadyAfterS} s after its first screen (steady)` : ` for ${opts.seconds} s`}…`,
    );
    const m = await measureWindows(app, shownAt, opts);
    if (!app.running) throw new Error(`${name} exited during the window (code ${app.exitCode})`);
    const screen = app.text();
    return {
      name,
      how: [file, ...args].join(' '),
      pid: app.pid,
      ...m,
      screenTop: screen
        .split('\n')
        .slice(0, 4)
        .map((l) => l.trimEnd()),
    };
  } finally {
    await app.stop();
  }
}

export async function runDashboardCost(opts: DashCostOptions): Promise<DashCostResult> {
  const { log } = opts;
  const dashboards: DashCostResult['dashboards'] = [];
  for (const servers of opts.servers) {
    log(`  — dashboard, ${servers} servers at 1 Hz`);
    try {
      dashboards.push(await runDashboard(servers, opts));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      log(`  dashboard with ${servers} servers failed: ${err instanceof Error ? (err.stack ?? msg) : msg}`);
      dashboards.push({ servers, error: msg.split('\n')[0]! });
    }
  }

  let gtop: DashCostResult['gtop'];
  const gtopBin = findGtop();
  if (!gtopBin) {
    log('  gtop not installed (npm i -D gtop)');
    gtop = { name: 'gtop', skipped: 'gtop not installed (npm i -D gtop)' };
  } else {
    log(`  — gtop (${gtopBin})`);
    try {
      gtop = await runTop(
        'gtop',
        process.execPath,
        [gtopBin],
        (s) => /CPU History/.test(s) && /Processes/.test(s),
        opts,
      );
    } catch (err) {
      gtop = { name: 'gtop', error: (err instanceof Error ? err.message : String(err)).split('\n')[0]! };
      log(`  gtop failed: ${gtop.error}`);
    }
  }

  let btop: DashCostResult['btop'];
  const btopBin = process.env.YARD_BENCH_BTOP ? resolve(process.env.YARD_BENCH_BTOP) : onPath('btop');
  if (!btopBin || !existsSync(btopBin)) {
    const how =
      'btop not installed: `apt-get update && apt-get install -y btop` (Debian, Ubuntu), or YARD_BENCH_BTOP=PATH';
    log(`  ${how}`);
    btop = { name: 'btop', skipped: how };
  } else {
    log(`  — btop (${btopBin})`);
    try {
      // Its own config dir, so the operator's settings neither count nor change; refresh at
      // 1 s like the fleet (btop's default is 2 s), everything else as shipped.
      const config = tempDir('yard-bench-btop-');
      mkdirSync(join(config, 'btop'), { recursive: true });
      writeFileSync(join(config, 'btop', 'btop.conf'), 'update_ms = 1000\n');
      btop = await runTop('btop', btopBin, [], (s) => /\bcpu\b/i.test(s) && /\bmem\b/i.test(s), opts, {
        XDG_CONFIG_HOME: config,
        HOME: config,
      });
      btop.how += ' (update_ms = 1000)';
    } catch (err) {
      btop = { name: 'btop', error: (err instanceof Error ? err.message : String(err)).split('\n')[0]! };
      log(`  btop failed: ${btop.error}`);
    }
  }
  return {
    cols: opts.cols,
    rows: opts.rows,
    seconds: opts.seconds,
    warmupS: opts.warmupS,
    steadyAfterS: opts.steadyAfterS,
    dashboards,
    gtop,
    btop,
  };
}
