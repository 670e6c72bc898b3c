// Migration across a real-looking network (issue 13's topology, bench/net-topology.ts): the
// controller on a 100 Mbit/s link, agents bench-a and bench-b on 1 Gbit/s links, each in its own
// network namespace. In the same run, a plain TCP copy of the same bytes a → b (the agents' link)
// and a → ctl (the controller's link), then the example job with N MB of state moved bench-a →
// bench-b the way the product moves it today.
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { controlClient } from '../src/cli/client.js';
import { removeTempDir, tempDir, YARD, YardProcess } from './lib.js';
import { type Moved, moveCounter, stopCounter } from './migration.js';
import { buildNetTopology, type HostName, LINKS, type NetTopology, tbfStats } from './net-topology.js';

const SINK = resolve(import.meta.dirname, 'tcp-sink.js');
const SOURCE = resolve(import.meta.dirname, 'tcp-source.js');
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
  /** The controller's link while the job moved (tc's counters): bytes it received and sent, packets its two tbfs dropped. */
  ctlLink?: { inBytes: number; outBytes: number; dropped: number };
  /** The same move with bench-b unable to reach bench-a (a prohibit route): the relay fallback. */
  relayed?: { moved: Moved; ctlLink: { inBytes: number; outBytes: number; dropped: number } };
  shaping: string[];
  /** The payload rate a TCP copy can reach on each host's link: tbf counts whole frames, 1448 of 1514 bytes are data. */
  ceilingBps: Record<HostName, number>;
  warnings: string[];
}

export async function runNetMigration(opts: {
  stateMb: number;
  log: (line: string) => void;
}): Promise<NetMigrationResult> {
  const topo = buildNetTopology();
  try {
    opts.log(
      `  network: ${Object.values(topo.hosts)
        .map((h) => `${h.name} ${h.address} (${h.ns})`)
        .join(', ')}`,
    );
    const bytes = Math.round(opts.stateMb * MiB);
    // Runs bounded by the slow link: 200 MB over 100 Mbit/s is 17.5 s a copy.
    const plain = [
      await plainCopies(topo, 'a', 'b', bytes, 3, opts.log),
      await plainCopies(topo, 'a', 'ctl', bytes, opts.stateMb <= 300 ? 2 : 1, opts.log),
    ];
    // A failed move still reports the plain copies: they are the link's figures.
    const move = await moveAcross(topo, opts).catch((err: unknown) => ({
      error: err instanceof Error ? err.message : String(err),
      warnings: [],
    }));
    const ceilingBps = { ctl: ceiling('ctl'), a: ceiling('a'), b: ceiling('b') };
    return { stateMb: opts.stateMb, plain, shaping: topo.shaping, ceilingBps, ...move };
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
  opts: { stateMb: number; log: (line: string) => void },
): Promise<Pick<NetMigrationResult, 'moved' | 'ctlLink' | 'relayed' | 'warnings'>> {
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
    const before = tbfStats(topo, 'ctl');
    const moved = await moveCounter({
      api,
      name,
      stateMb: opts.stateMb,
      pids: { controller: controller.pid, source: agents[0]!.pid, target: agents[1]!.pid },
      controllerAddress: address,
      targetDir: dirs.b,
      // Today the bytes cross the 100 Mbit/s link twice (≈ 11.4 MB/s each way), one pass after the other.
      timeoutMs: 60_000 + opts.stateMb * 500,
      workloadPids,
      log: opts.log,
    });
    const link = (from: ReturnType<typeof tbfStats>, to: ReturnType<typeof tbfStats>) => ({
      inBytes: to[1]!.sentBytes - from[1]!.sentBytes,
      outBytes: to[0]!.sentBytes - from[0]!.sentBytes,
      dropped: to[0]!.dropped + to[1]!.dropped - from[0]!.dropped - from[1]!.dropped,
    });
    const ctlLink = link(before, tbfStats(topo, 'ctl'));
    // The fallback: bench-b cannot reach bench-a (as behind NAT or a firewall), so the same move relays.
    execFileSync('ip', ['-n', b.ns, 'route', 'add', 'prohibit', `${a.address}/32`]);
    let relayed: NetMigrationResult['relayed'];
    try {
      const beforeRelay = tbfStats(topo, 'ctl');
      const relayMoved = await moveCounter({
        api,
        name: `${name}-relay`,
        stateMb: opts.stateMb,
        pids: { controller: controller.pid, source: agents[0]!.pid, target: agents[1]!.pid },
        controllerAddress: address,
        targetDir: dirs.b,
        timeoutMs: 60_000 + opts.stateMb * 500,
        workloadPids,
        log: opts.log,
      });
      relayed = { moved: relayMoved, ctlLink: link(beforeRelay, tbfStats(topo, 'ctl')) };
    } finally {
      execFileSync('ip', ['-n', b.ns, 'route', 'del', 'prohibit', `${a.address}/32`]);
      await api.call(api.client.stopWorkload, { name: `${name}-relay`, remove: true }).catch(() => undefined);
    }
    return {
      moved,
      ctlLink,
      relayed,
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

const ceiling = (host: HostName) => (LINKS[host].rateBps * 1448) / 1514;
