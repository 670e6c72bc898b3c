import { afterEach, describe, expect, it } from 'vitest';
import { HealthCheckKind } from '../../src/core/route.js';
import {
  Backend,
  Client,
  cleanup,
  endpoint,
  endpointStats,
  eventually,
  freePort,
  oneShot,
  route,
  routeStats,
  sleep,
  startProxy,
} from './proxy-harness.js';

afterEach(cleanup);

describe('proxy held connections', () => {
  it('clients wait while the only endpoint is held and are served in order once it is released', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address, { held: true })])]);
    const waiting = [new Client(port), new Client(port), new Client(port)];
    for (const [i, c] of waiting.entries()) c.sock.write(`sent while held ${i}`);
    await eventually('three clients held', () => routeStats(proxy, 'web').heldNow === 3);
    await sleep(50);
    expect(waiting.map((c) => c.received)).toEqual(['', '', '']);

    await proxy.place([route('web', port, [endpoint(a.address)], { revision: 2 })]);
    for (const [i, c] of waiting.entries()) {
      // What each sent while it waited was kept (in the kernel) and reaches the backend now.
      await c.receive(`a\nsent while held ${i}`);
    }
    const stats = routeStats(proxy, 'web');
    expect(stats).toMatchObject({ heldTotal: 3, heldNow: 0, refused: 0, total: 3, active: 3 });
    expect(stats.heldMaxMs).toBeGreaterThan(0);
  });

  it('a client held past the hold timeout is closed and counted as refused', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address, { held: true })], { holdTimeoutMs: 300 })]);
    const c = new Client(port);
    await eventually('the client held', () => routeStats(proxy, 'web').heldNow === 1);
    await c.closed();
    expect(c.received).toBe('');
    await eventually('the refused client counted as closed', () => routeStats(proxy, 'web').active === 0);
    const stats = routeStats(proxy, 'web');
    expect(stats).toMatchObject({ heldTotal: 1, heldNow: 0, refused: 1 });
    expect(stats.heldMaxMs).toBeGreaterThanOrEqual(250);
  });

  it('early clients of a new endpoint wait for its first passing check, then succeed', async () => {
    const port = await freePort();
    const backendPort = await freePort();
    const proxy = startProxy();
    const check = {
      kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
      intervalMs: 1000,
      timeoutMs: 300,
      unhealthyAfter: 10,
      healthyAfter: 2,
      path: '/',
    };
    await proxy.place([route('web', port, [endpoint(`127.0.0.1:${backendPort}`)], { healthCheck: check })]);
    const early = [new Client(port), new Client(port)];
    await eventually('the early clients held', () => routeStats(proxy, 'web').heldNow === 2);
    await sleep(200);
    await Backend.start('late', { port: backendPort });
    for (const c of early) expect(await c.greeting()).toBe('late');
    expect(await oneShot(port)).toBe('late');
    expect(routeStats(proxy, 'web')).toMatchObject({ heldTotal: 2, refused: 0, total: 3 });
  });

  it('an endpoint released from a cut-over is checked afresh: clients wait for the new instance, not the old one that answered its checks', async () => {
    // Source and target of a move on one host can share an address: while the endpoint was held,
    // its checks reached the old instance; the new one listens a moment after the release.
    const port = await freePort();
    const old = await Backend.start('old');
    const proxy = startProxy();
    const check = {
      kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
      intervalMs: 1000,
      timeoutMs: 300,
      unhealthyAfter: 10,
      healthyAfter: 1,
      path: '/',
    };
    await proxy.place([route('web', port, [endpoint(old.address, { held: true })], { healthCheck: check })]);
    await sleep(100);
    const held = [new Client(port), new Client(port)];
    await eventually('the clients held', () => routeStats(proxy, 'web').heldNow === 2);
    await old.stop();
    await proxy.place([route('web', port, [endpoint(old.address)], { healthCheck: check, revision: 2 })]);
    await sleep(150);
    await Backend.start('restored', { port: old.port });
    for (const c of held) expect(await c.greeting()).toBe('restored');
    expect(routeStats(proxy, 'web')).toMatchObject({ heldTotal: 2, refused: 0 });
  });

  it('a moved instance slow to listen after its cut-over fails its first checks and clients still wait for it', async () => {
    // On a busy host the restored copy may listen well after it runs: more failed checks than
    // unhealthyAfter (100 ms apart while it never passed) must not turn waiting clients away.
    const port = await freePort();
    const backendPort = await freePort();
    const address = `127.0.0.1:${backendPort}`;
    const proxy = startProxy();
    // As a migration places it: held with no address while the workload runs nowhere…
    const heldNowhere = endpoint('', { key: 'api@-', backend: 'api', held: true });
    await proxy.place([route('web', port, [heldNowhere])]);
    const held = [new Client(port), new Client(port)];
    await eventually('the clients held', () => routeStats(proxy, 'web').heldNow === 2);
    // …then released straight to the target's address: a new endpoint, the instance just started.
    await proxy.place([route('web', port, [endpoint(address, { key: 'api@b', backend: 'api' })], { revision: 2 })]);
    await eventually('several failed checks', () =>
      /starting: connect refused [3-9]×/.test(endpointStats(proxy, 'web', 'api@b').healthDetail),
    );
    const late = new Client(port);
    await Backend.start('restored', { port: backendPort });
    for (const c of [...held, late]) expect(await c.greeting()).toBe('restored');
    expect(routeStats(proxy, 'web')).toMatchObject({ heldTotal: 3, refused: 0 });
  });

  it('the same endpoint released from a cut-over waits for its slow instance too', async () => {
    const port = await freePort();
    const backendPort = await freePort();
    const address = `127.0.0.1:${backendPort}`;
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(address, { held: true })])]);
    const c = new Client(port);
    await eventually('the client held', () => routeStats(proxy, 'web').heldNow === 1);
    await proxy.place([route('web', port, [endpoint(address)], { revision: 2 })]);
    await sleep(600);
    expect(endpointStats(proxy, 'web', address).healthDetail).toMatch(/^starting: connect refused \d+× in a row/);
    await Backend.start('restored', { port: backendPort });
    expect(await c.greeting()).toBe('restored');
    expect(routeStats(proxy, 'web')).toMatchObject({ refused: 0 });
  });

  it('a moved instance that never listens is waited for only as long as the hold timeout, then refused at once', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${await freePort()}`;
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(address, { held: true })], { holdTimeoutMs: 800 })]);
    await proxy.place([route('web', port, [endpoint(address)], { holdTimeoutMs: 800, revision: 2 })]);
    const c = new Client(port);
    const since = Date.now();
    await c.closed();
    expect(Date.now() - since).toBeGreaterThanOrEqual(500);
    await eventually('unhealthy after its grace', () =>
      /^connect refused \d+× in a row/.test(endpointStats(proxy, 'web', address).healthDetail),
    );
    const next = new Client(port);
    const at = Date.now();
    await next.closed();
    expect(Date.now() - at).toBeLessThan(500);
    expect(routeStats(proxy, 'web').refused).toBe(2);
  });

  it('held clients are refused as soon as nothing could take them', async () => {
    const port = await freePort();
    const backendPort = await freePort();
    const proxy = startProxy();
    const check = {
      kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
      intervalMs: 1000,
      timeoutMs: 300,
      unhealthyAfter: 2,
      healthyAfter: 2,
      path: '/',
    };
    await proxy.place([route('web', port, [endpoint(`127.0.0.1:${backendPort}`)], { healthCheck: check })]);
    const c = new Client(port);
    // Its only endpoint never listens: it fails its first checks and the client goes, long before the 30 s hold timeout.
    await c.closed();
    expect(routeStats(proxy, 'web')).toMatchObject({ heldTotal: 1, refused: 1 });
  });
});
