import { writeFileSync } from 'node:fs';
import { createServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthNames, type RouteStatus } from '../../src/core/route.js';
import { MigrationStrategy, migrationPhases, workloadStates } from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
import { createHosts, netnsAvailable, type TestHost } from '../helpers/netns.js';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';
import { ECHO, echoSpec } from '../helpers/specs.js';
import { startTraffic, type Traffic, type TrafficReport } from '../helpers/traffic.js';

/** As root, the two workload hosts get network namespaces of their own: really different hosts. */
const NETNS = netnsAvailable();

type Host = 'a' | 'b';

/**
 * Routing end to end: a real controller, two workload agents and a proxy agent (`yard agent
 * --proxy`), real echo-server workloads behind a route, and real TCP clients counting every
 * failed connection while weights shift, a version is promoted, a failing canary is reverted and
 * a backend migrates.
 */
describe(`routes applied by a proxy agent${NETNS ? ' (workload hosts in their own network namespaces)' : ' (workload hosts on 127.0.0.2 and 127.0.0.3)'}`, () => {
  let netns: ReturnType<typeof createHosts> | undefined;
  const hostOf: Partial<Record<Host, TestHost>> = {};
  let port: number;
  let address: string;
  let controller: YardProcess;
  const ctlDir = tempDir('yard-route-ctl-');
  const dirs = { a: tempDir('yard-route-a-'), b: tempDir('yard-route-b-'), edge: tempDir('yard-route-edge-') };
  const agents: YardProcess[] = [];
  let api: ReturnType<typeof control>;
  let webPort: number;
  let traffic: Traffic | undefined;
  const blocker: NetServer[] = [];
  const fileDir = tempDir('yard-route-files-');

  const yard = (...args: string[]) => runYard([...args, '--controller', address, '--data-dir', ctlDir], {}, 60_000);
  const routes = async (): Promise<RouteStatus[]> => (await api.call(api.client.listRoutes, {})).routes;
  const route = async (name: string) => (await routes()).find((r) => r.route?.name === name);
  const weights = async (name: string) =>
    Object.fromEntries((await route(name))!.route!.backends.map((b) => [b.version, b.weight]));
  const routeFile = (name: string, body: object): string => {
    const file = join(fileDir, name);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };
  const webRoute = (blue: number, green: number, extra: object = {}) => ({
    name: 'web',
    listen: { server: 'edge', port: webPort, host: '127.0.0.1' },
    backends: [
      { workload: 'api', weight: blue, version: 'blue' },
      { workload: 'api-green', weight: green, version: 'green' },
    ],
    healthCheck: { kind: 'tcp', interval: '300ms', timeout: '200ms', unhealthyAfter: 2, healthyAfter: 1 },
    holdTimeout: '20s',
    drainTimeout: '5s',
    ...extra,
  });
  /** Runs traffic through the route while `during` acts; returns what the clients saw. */
  const withTraffic = async (during: () => Promise<void>, listenPort = webPort): Promise<TrafficReport> => {
    const running = startTraffic(`127.0.0.1:${listenPort}`, { clients: 4 });
    traffic = running;
    // Returned after the finally: a return inside it would swallow a failed wait or `during`.
    let report: TrafficReport;
    try {
      await waitFor('traffic flowing', () => (running.report().ok >= 20 ? true : undefined), 20_000);
      await during();
      const before = running.report().ok;
      await waitFor('traffic still flowing', () => (running.report().ok >= before + 20 ? true : undefined), 20_000);
    } finally {
      report = await running.stop();
      traffic = undefined;
      console.log(
        `traffic: ${report.ok} answered, ${report.failed} failed, slowest ${report.maxMs.toFixed(0)} ms, p99 ${report.p99Ms.toFixed(1)} ms, by version ${JSON.stringify(report.byVersion)}`,
      );
    }
    return report;
  };
  const versionsNow = async (n = 40, listenPort = webPort): Promise<Record<string, number>> => {
    const t = startTraffic(`127.0.0.1:${listenPort}`, { clients: 2, maxRequests: n });
    await waitFor('a sample of traffic', () => (t.report().ok + t.report().failed >= n ? true : undefined), 20_000);
    const r = await t.stop();
    expect(r.failed, r.failures.join('\n')).toBe(0);
    return r.byVersion;
  };
  const serverIds = async () => {
    const r = await yard('servers', '--json');
    return Object.fromEntries((JSON.parse(r.stdout) as { id: string; name: string }[]).map((s) => [s.name, s.id]));
  };
  const waitRunning = (name: string, host: string) =>
    waitFor(
      `${name} running on ${host}`,
      async () => {
        const id = (await serverIds())[host];
        const live = await api.liveInstances(name);
        return live.length === 1 && live[0]!.serverId === id && workloadStates.name(live[0]!.state) === 'running'
          ? live[0]
          : undefined;
      },
      30_000,
      200,
    );
  const endpointHealthy = (service: string, version: string) =>
    waitFor(
      `${version} of ${service} healthy at the proxy`,
      async () => {
        const r = await route(service);
        const eps = r?.endpoints.filter((e) => e.endpoint?.version === version) ?? [];
        return eps.length > 0 && eps.every((e) => e.stats?.checksPassing) ? true : undefined;
      },
      20_000,
      100,
    );

  beforeAll(async () => {
    assertBuilt();
    port = await freePort();
    webPort = await freePort();
    address = `127.0.0.1:${port}`;
    if (NETNS) {
      netns = createHosts(2);
      [hostOf.a, hostOf.b] = netns.hosts;
    }
    controller = startControllerProc(
      ctlDir,
      port,
      ['--verify', '1s', '--grace', '20s', '--cpu-limit', '100'],
      NETNS ? '0.0.0.0' : '127.0.0.1',
    );
    await controller.waitForOutput(/controller listening/);
    for (const host of ['a', 'b'] as const) {
      const h = hostOf[host];
      const dial = h ? `${h.gateway}:${port}` : address;
      const where = h ? [] : ['--advertise', host === 'a' ? '127.0.0.2' : '127.0.0.3'];
      agents.push(
        startAgentProc(
          dial,
          dirs[host],
          ['--name', `host-${host}`, '--nvidia-smi', '/nonexistent/nvidia-smi', ...where, ...joinArgs(ctlDir)],
          h?.wrap,
        ),
      );
    }
    agents.push(
      startAgentProc(address, dirs.edge, [
        '--name',
        'edge',
        '--proxy',
        '--nvidia-smi',
        '/nonexistent/nvidia-smi',
        ...joinArgs(ctlDir),
      ]),
    );
    api = control(socketOf(ctlDir));
    await waitFor(
      'three agents online',
      async () => {
        const l = JSON.parse((await yard('servers', '--json')).stdout) as { state: string }[];
        return l.length === 3 && l.every((s) => s.state === 'online') ? true : undefined;
      },
      30_000,
    );
    await api.call(api.client.runWorkload, {
      server: 'host-a',
      spec: echoSpec('api', 'blue', 9001, MigrationStrategy.MIGRATION_STRATEGY_RESTART),
    });
    await api.call(api.client.runWorkload, { server: 'host-b', spec: echoSpec('api-green', 'green', 9000) });
    await waitRunning('api', 'host-a');
    await waitRunning('api-green', 'host-b');
  }, 90_000);

  afterAll(async () => {
    await traffic?.stop();
    for (const b of blocker) b.close();
    api?.close();
    await Promise.all([...agents.map((a) => a.stop()), controller?.stop()]);
    netns?.destroy();
  });

  it('applies a route from a file: the proxy listens and forwards to the workload where it runs', async () => {
    const r = await yard('route', 'apply', '-f', routeFile('web.json', webRoute(100, 0)));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/web: created/);
    await endpointHealthy('web', 'blue');
    expect(await versionsNow()).toEqual({ blue: 40 });
    const listed = JSON.parse((await yard('routes', '--json')).stdout) as {
      name: string;
      endpoints: { version: string; address: string; health: string }[];
    }[];
    const blue = listed.find((x) => x.name === 'web')!.endpoints.find((e) => e.version === 'blue')!;
    expect(blue.address).toMatch(NETNS ? /^10\.\d+\.0\.2:9001$/ : /^127\.0\.0\.2:9001$/);
    expect(blue.health).toBe('healthy');
  });

  const refusals: [string, () => object | string, RegExp][] = [
    [
      'an unknown workload',
      () => webRoute(100, 0, { backends: [{ workload: 'nope', weight: 100, version: 'x' }] }),
      /unknown workload nope/,
    ],
    [
      'a bad address',
      () => webRoute(100, 0, { backends: [{ address: 'not-an-address', weight: 100 }] }),
      /address is not HOST:PORT/,
    ],
    ['weights all zero', () => webRoute(0, 0), /weight 0/],
    [
      'a duplicate service',
      () => ({ routes: [webRoute(100, 0), webRoute(50, 50)] }),
      /service web twice|duplicate service web/,
    ],
    [
      'a port in use on the proxy host',
      () => ({
        ...webRoute(100, 0),
        name: 'other',
        listen: { server: 'edge', port: (blocker[0]!.address() as { port: number }).port, host: '127.0.0.1' },
      }),
      /in use/,
    ],
    [
      'a server that is not a proxy',
      () => ({ ...webRoute(100, 0), name: 'other', listen: { server: 'host-a', port: 18080 } }),
      /not a proxy/,
    ],
  ];
  for (const [what, body, message] of refusals) {
    it(`refuses ${what} with a clear error, and changes nothing`, async () => {
      if (blocker.length === 0) {
        const b = createServer();
        await new Promise<void>((res) => b.listen(0, '127.0.0.1', res));
        blocker.push(b);
      }
      const before = JSON.stringify((await routes()).map((r) => r.route));
      const r = await yard('route', 'apply', '-f', routeFile('bad.json', body() as object));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(JSON.stringify((await routes()).map((x) => x.route))).toBe(before);
      expect(await versionsNow(20)).toEqual({ blue: 20 });
    });
  }

  it('shifts weights without failing a connection', async () => {
    await endpointHealthy('web', 'green');
    const seen = await withTraffic(async () => {
      expect((await yard('route', 'weight', 'web', 'blue=50', 'green=50')).code).toBe(0);
      const mixed = await versionsNow(80);
      expect(mixed.blue).toBeGreaterThan(10);
      expect(mixed.green).toBeGreaterThan(10);
      expect((await yard('route', 'weight', 'web', 'blue=0', 'green=100')).code).toBe(0);
      expect(await versionsNow()).toEqual({ green: 40 });
      expect((await yard('route', 'weight', 'web', 'blue=100', 'green=0')).code).toBe(0);
      expect(await versionsNow()).toEqual({ blue: 40 });
    });
    expect(seen.failed, seen.failures.join('\n')).toBe(0);
  });

  it('promotes a version in health-gated steps without failing a connection', async () => {
    const seen = await withTraffic(async () => {
      const r = await yard('route', 'promote', 'web', 'green', '--steps', '20,60,100', '--interval', '700ms');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/3\/3/);
    });
    expect(seen.failed, seen.failures.join('\n')).toBe(0);
    expect(seen.byVersion.green).toBeGreaterThan(0);
    expect(await weights('web')).toEqual({ blue: 0, green: 100 });
    expect(await versionsNow()).toEqual({ green: 40 });
  });

  it('rolls the table back to the one before the last change, and records who changed what', async () => {
    const r = await yard('route', 'rollback', 'web');
    expect(r.code, r.stderr).toBe(0);
    expect(await weights('web')).toEqual({ blue: 100, green: 0 });
    expect(await versionsNow()).toEqual({ blue: 40 });
    const history = JSON.parse((await yard('route', 'history', 'web', '--json')).stdout) as {
      action: string;
      who: string;
    }[];
    expect(history[0]!.action).toBe('rollback');
    expect(history.map((h) => h.action)).toEqual(expect.arrayContaining(['apply', 'weight', 'promote', 'rollback']));
    expect(history.every((h) => h.who.length > 0)).toBe(true);
  });

  it('halts a promotion and reverts when the new version fails, without failing a connection', async () => {
    await api.call(api.client.runWorkload, { server: 'host-b', spec: echoSpec('api-canary', 'canary', 9002) });
    await waitRunning('api-canary', 'host-b');
    // Health over HTTP here: the canary will go bad by failing its checks while still answering.
    const body = {
      ...webRoute(100, 0),
      backends: [
        { workload: 'api', weight: 100, version: 'blue' },
        { workload: 'api-canary', weight: 0, version: 'canary' },
      ],
      healthCheck: {
        kind: 'http',
        path: '/healthz',
        interval: '300ms',
        timeout: '200ms',
        unhealthyAfter: 2,
        healthyAfter: 1,
      },
    };
    expect((await yard('route', 'apply', '-f', routeFile('canary.json', body))).code).toBe(0);
    await endpointHealthy('web', 'canary');
    let promote: Promise<{ code: number | null; stdout: string; stderr: string }> | undefined;
    const seen = await withTraffic(async () => {
      promote = yard('route', 'promote', 'web', 'canary', '--steps', '10,50,100', '--interval', '3s');
      await waitFor('canary taking traffic', () => (traffic!.report().byVersion.canary ? true : undefined), 20_000);
      const canary = (await api.liveInstances('api-canary'))[0]!;
      process.kill(canary.pid, 'SIGUSR2');
      const r = await promote;
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/revert|halt/i);
    });
    expect(seen.failed, seen.failures.join('\n')).toBe(0);
    expect(await weights('web')).toEqual({ blue: 100, canary: 0 });
    expect(await versionsNow()).toEqual({ blue: 40 });
    await api.call(api.client.stopWorkload, { name: 'api-canary', remove: true });
    expect((await yard('route', 'apply', '-f', routeFile('web.json', webRoute(100, 0)))).code).toBe(0);
  });

  it('drains a backend: no new connections to it', async () => {
    expect((await yard('route', 'weight', 'web', 'blue=50', 'green=50')).code).toBe(0);
    const r = await yard('route', 'drain', 'web', 'green', '--deadline', '2s');
    expect(r.code, r.stderr).toBe(0);
    expect(await versionsNow()).toEqual({ blue: 40 });
    const green = (await route('web'))!.endpoints.find((e) => e.endpoint?.version === 'green')!;
    expect(green.endpoint!.draining).toBe(true);
    await waitFor('green shown as draining', async () => {
      const g = (await route('web'))!.endpoints.find((e) => e.endpoint?.version === 'green');
      return g && healthNames.name(g.stats!.health) === 'draining' ? true : undefined;
    });
    expect((await yard('route', 'apply', '-f', routeFile('web.json', webRoute(100, 0)))).code).toBe(0);
  });

  it('moves traffic with a restart-strategy migration: the new instance ramps up, the source drains, no connection fails', async () => {
    let migrationId = '';
    const seen = await withTraffic(async () => {
      const m = await api.call(api.client.startMigration, {
        workload: 'api',
        target: 'host-b',
        strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
      });
      migrationId = m.migration!.id;
      const done = await api.waitForMigrationEnd(migrationId, 90_000);
      expect(migrationPhases.name(done.phase), done.error).toBe('committed');
      expect(done.timings?.trafficShiftMs).toBeGreaterThan(0);
      console.log(`restart migration: traffic shifted in ${done.timings?.trafficShiftMs} ms`);
    });
    expect(seen.failed, seen.failures.join('\n')).toBe(0);
    await waitRunning('api', 'host-b');
    const blue = (await route('web'))!.endpoints.filter((e) => e.endpoint?.version === 'blue');
    expect(blue).toHaveLength(1);
    expect(blue[0]!.endpoint!.address).toMatch(NETNS ? /^10\.\d+\.1\.2:9001$/ : /^127\.0\.0\.3:9001$/);
    expect(await versionsNow()).toEqual({ blue: 40 });
  });

  it('moves traffic with a checkpoint migration: new connections wait during the cutover (bounded, reported), none fail', async () => {
    let held = 0;
    const seen = await withTraffic(async () => {
      const m = await api.call(api.client.startMigration, {
        workload: 'api',
        target: 'host-a',
        strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      });
      const done = await api.waitForMigrationEnd(m.migration!.id, 90_000);
      expect(migrationPhases.name(done.phase), done.error).toBe('committed');
      held = done.timings?.trafficHeldMs ?? 0;
      expect(held).toBeGreaterThan(0);
    });
    console.log(
      `checkpoint migration: traffic held ${held} ms at the proxy; slowest client request ${seen.maxMs.toFixed(0)} ms`,
    );
    expect(seen.failed, seen.failures.join('\n')).toBe(0);
    // Bounded: nobody waited past the route's hold timeout (20 s).
    expect(seen.maxMs).toBeLessThan(20_000);
    await waitRunning('api', 'host-a');
    expect(await api.logs('api')).toMatch(/restored: served=\d+/);
    expect(await versionsNow()).toEqual({ blue: 40 });
  });

  it('rolls a failed migration back with its traffic: the table is as it was, the route points at the source, no connection fails', async () => {
    // A backend that cannot serve on host-b: its copy there never listens and exits after 2 s.
    const failOnB = `case "$SWITCHYARD_STATE_DIR" in *yard-route-b-*) echo "cannot serve here"; sleep 2; exit 1;; esac; exec "${process.execPath}" "${ECHO}"`;
    await api.call(api.client.runWorkload, {
      server: 'host-a',
      spec: {
        ...echoSpec('api-old', 'old', 9003, MigrationStrategy.MIGRATION_STRATEGY_RESTART),
        command: '/bin/sh',
        args: ['-c', failOnB],
      },
    });
    await waitRunning('api-old', 'host-a');
    const legacyPort = await freePort();
    const body = {
      ...webRoute(100, 0),
      name: 'legacy',
      listen: { server: 'edge', port: legacyPort, host: '127.0.0.1' },
      backends: [{ workload: 'api-old', weight: 100, version: 'old' }],
    };
    expect((await yard('route', 'apply', '-f', routeFile('legacy.json', body))).code).toBe(0);
    await endpointHealthy('legacy', 'old');
    const before = (await route('legacy'))!;
    const seen = await withTraffic(async () => {
      const m = await api.call(api.client.startMigration, {
        workload: 'api-old',
        target: 'host-b',
        strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
      });
      const done = await api.waitForMigrationEnd(m.migration!.id, 90_000);
      expect(migrationPhases.name(done.phase)).toBe('rolled_back');
      expect(done.error).toMatch(/exited|health/);
    }, legacyPort);
    expect(seen.failed, seen.failures.join('\n')).toBe(0);
    const after = (await route('legacy'))!;
    expect(after.route).toEqual(before.route);
    expect(after.endpoints.map((e) => e.endpoint!.key)).toEqual(before.endpoints.map((e) => e.endpoint!.key));
    expect(await versionsNow(20, legacyPort)).toEqual({ old: 20 });
  });
});
