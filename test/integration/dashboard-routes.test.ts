import { connect, createServer, type Server as NetServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorName } from '../../src/cli/client.js';
import { RemoteFleet } from '../../src/cli/remote-fleet.js';
import { startController, type Controller } from '../../src/controller/controller.js';
import { registryFleetSource } from '../../src/controller/fleet-source.js';
import { silentLogger } from '../../src/core/log.js';
import { parseRouteFile } from '../../src/core/schema/route-file.js';
import { openHeadless, type Headless, KEY } from '../tui/harness.js';
import {
  assertBuilt,
  freePort,
  joinArgsFor,
  startAgentProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

/** A backend that answers every connection with its version and closes. */
async function backend(version: string): Promise<{ server: NetServer; address: string }> {
  const server = createServer((socket) => {
    // A health check that connects and resets before reading is no failure of the backend's.
    socket.on('error', () => undefined);
    socket.end(`${version}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const at = server.address();
  if (at === null || typeof at === 'string') throw new Error('the backend has no TCP address');
  return { server, address: `127.0.0.1:${at.port}` };
}

/** Opens `count` connections through the route, one after another, each read to its end. */
async function connections(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('data', () => {});
      socket.on('end', resolve);
      socket.on('error', reject);
      socket.setTimeout(5000, () => socket.destroy(new Error('the route answered nothing in 5s')));
    });
  }
}

/**
 * The Routes view over a real controller: its Router, a real proxy agent process applying the
 * route and health-checking two real backends, the embedded dashboard's route keys, and an
 * attached dashboard's route list and actions through the Control API.
 */
describe('routes in the dashboard over a real controller and a proxy agent', () => {
  let controller: Controller;
  let agent: YardProcess;
  const backends: NetServer[] = [];
  let h: Headless | undefined;
  let remote: RemoteFleet | undefined;
  let port: number;

  beforeAll(async () => {
    assertBuilt();
    controller = await startController({
      dataDir: tempDir(),
      listen: '127.0.0.1:0',
      heartbeatIntervalMs: 200,
      graceMs: 60_000,
      log: silentLogger,
    });
    agent = startAgentProc(controller.address, tempDir(), [
      '--name',
      'edge',
      '--proxy',
      '--nvidia-smi',
      '/nonexistent/nvidia-smi',
      ...joinArgsFor(controller.joinToken),
    ]);
    const [v1, v2] = await Promise.all([backend('v1'), backend('v2')]);
    backends.push(v1.server, v2.server);
    await waitFor(
      'the proxy agent online',
      () =>
        controller.registry.list().find((fs) => fs.server.name === 'edge' && fs.server.capabilities?.proxy) ??
        undefined,
      20_000,
    );
    port = await freePort();
    const route = {
      name: 'web',
      listen: { server: 'edge', port, host: '127.0.0.1' },
      backends: [
        { address: v1.address, weight: 80, version: 'v1' },
        { address: v2.address, weight: 20, version: 'v2' },
      ],
      healthCheck: { kind: 'tcp', interval: '200ms', timeout: '150ms', unhealthyAfter: 2, healthyAfter: 1 },
    };
    await waitFor(
      'the route placed on the proxy',
      () =>
        controller.router.apply(parseRouteFile(JSON.stringify(route), 'web.json'), 'test').then(
          () => true,
          () => undefined,
        ),
      20_000,
      300,
    );
  }, 60_000);

  afterAll(async () => {
    h?.close();
    remote?.close();
    for (const b of backends) b.close();
    await agent?.stop();
    await controller?.stop();
  });

  it('shows the route with each backend healthy, its connections and its traffic sparkline', async () => {
    const source = registryFleetSource(controller, controller.address, 'test-operator');
    h = openHeadless(source, { cols: 120, rows: 30 });
    await h.press('R');
    await h.waitFor(/v2 +█▎░{4} +20 ✓ healthy/, 20_000);
    await connections(port, 20);
    // Every connection counted at its backend, and the traffic drawn above the sparkline's floor.
    const text = await h.waitFor(/✓ web +edge 127\.0\.0\.1:\d+ +weighted +0 conn +0 refused/, 10_000);
    await waitFor(
      'the connections in the totals',
      () => {
        const totals = [...h!.text().matchAll(/127\.0\.0\.1:\d+ +v\d .* ✓ healthy +\d+ +(\d+)/g)].map((m) =>
          Number(m[1]),
        );
        return totals.length === 2 && totals[0]! + totals[1]! === 20 ? true : undefined;
      },
      10_000,
    );
    await h.waitFor(/v1 +████▊░ +80 ✓ healthy .* [▁▂▃▄▅▆▇█ ]*[▂▃▄▅▆▇█][▁▂▃▄▅▆▇█ ]*/, 10_000);
    expect(
      source.routes()[0]!.history(source.routes()[0]!.status.endpoints[0]!.endpoint!.key).length,
    ).toBeGreaterThanOrEqual(2);
    expect(text.split('\n').every((l) => [...l].length <= 120)).toBe(true);
  });

  it('= sets a weight through the router, and the audit trail names the operator', async () => {
    await h!.press('G', '=', '4', '0', KEY.enter, 'y');
    await h!.waitFor('web: v1 80, v2 40 (rev 2)', 10_000);
    expect(controller.router.list()[0]!.route!.backends.map((b) => b.weight)).toEqual([80, 40]);
    const entry = controller.audit.list().find((e) => e.action === 'route.weight');
    expect(entry).toMatchObject({ who: 'test-operator', target: 'web: v2=40', ok: true });
  });

  it('an attached dashboard lists the routes, and promotes and rolls back through the Control API', async () => {
    remote = new RemoteFleet({ address: controller.socketAddress, from: 'test' });
    await remote.ready(10_000);
    await waitFor('the route list', () => (remote!.routes().length === 1 ? true : undefined), 10_000, 50);
    expect(remote.routes()[0]!.status.route?.backends.map((b) => b.weight)).toEqual([80, 40]);
    const message = await remote.actions.promoteRoute('web', 'v2', { steps: [50, 100], intervalMs: 300 });
    expect(message).toBeTruthy();
    expect(controller.router.list()[0]!.route!.backends.map((b) => b.weight)).toEqual([0, 100]);
    // The stream's answers reach the attached dashboard's table at once.
    expect(remote.routes()[0]!.status.route?.backends.map((b) => b.weight)).toEqual([0, 100]);
    // A rollback undoes the promotion as a whole: back to the table before its first step.
    const back = await remote.actions.rollbackRoute('web');
    expect(back.route?.backends.map((b) => b.weight)).toEqual([80, 40]);
    await expect(remote.actions.setRouteWeights('nope', { v1: 1 })).rejects.toThrow(/no route "nope"/);
  });

  it('writes the same audit line for a weight change from either door', async () => {
    await remote!.actions.setRouteWeights('web', { v2: 40 });
    const [attached, embedded] = controller.audit.list().filter((e) => e.action === 'route.weight' && e.ok);
    expect(attached).toMatchObject({ who: operatorName(), target: 'web: v2=40' });
    expect(embedded).toMatchObject({ who: 'test-operator', target: attached!.target });
  });
});
