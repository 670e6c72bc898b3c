import { afterEach, describe, expect, it } from 'vitest';
import { BackendHealth, endpointHealth } from '../../src/core/route.js';
import {
  Backend,
  Client,
  cleanup,
  endpoint,
  endpointStats,
  eventually,
  freePort,
  healthOf,
  oneShot,
  route,
  routeStats,
  startProxy,
} from './proxy-harness.js';

afterEach(cleanup);

describe('proxy drain', () => {
  it('a weight change to 0 keeps the open connection flowing until the drain timeout, new ones go elsewhere', async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address), endpoint(b.address, { weight: 0 })])]);
    const long = new Client(port);
    expect(await long.greeting()).toBe('a');

    await proxy.place([
      route('web', port, [endpoint(a.address, { weight: 0, drainTimeoutMs: 300 }), endpoint(b.address)], {
        revision: 2,
      }),
    ]);
    await healthOf(proxy, 'web', b.address, BackendHealth.BACKEND_HEALTH_HEALTHY);
    // Both ways still: the client's bytes reach A and A's echo comes back.
    long.sock.write('ping');
    await long.receive('ping');
    expect(await oneShot(port)).toBe('b');
    expect(await oneShot(port)).toBe('b');
    const draining = endpointStats(proxy, 'web', a.address);
    expect(draining).toMatchObject({
      active: 1,
      total: 1,
      health: BackendHealth.BACKEND_HEALTH_DRAINING,
      checksPassing: true,
    });
    expect(draining.healthDetail).toMatch(/weight 0: 1 open connection/);

    await long.closed();
    await eventually(
      'the drained connection counted as closed',
      () => endpointStats(proxy, 'web', a.address).active === 0,
    );
    await eventually('the backend side closed too', () => a.sockets.size === 0);
  });

  it('a healthy backend at weight 0 with nothing to finish reads as a standby passing its checks; drained, as draining', async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const proxy = startProxy();
    const spare = endpoint(b.address, { weight: 0 });
    await proxy.place([route('web', port, [endpoint(a.address), spare])]);
    const standby = await eventually('b passing its checks', () => {
      const s = endpointStats(proxy, 'web', b.address);
      return s.checksPassing && s;
    });
    expect(standby).toMatchObject({
      active: 0,
      health: BackendHealth.BACKEND_HEALTH_DRAINING,
      healthDetail: 'weight 0: no new connections',
    });
    expect(endpointHealth({ endpoint: spare, stats: standby, bytesPerSec: 0 })).toBe('standby');
    expect(await oneShot(port)).toBe('a');

    const drained = { ...spare, draining: true };
    await proxy.place([route('web', port, [endpoint(a.address), drained], { revision: 2 })]);
    const report = await eventually('b drained', () => {
      const s = endpointStats(proxy, 'web', b.address);
      return s.healthDetail === 'drained: no new connections' && s;
    });
    expect(endpointHealth({ endpoint: drained, stats: report, bytesPerSec: 0 })).toBe('draining');
  });

  it('an endpoint taken out of the table drains, keeps reporting until its connections end, and comes back with its counters', async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address, { drainTimeoutMs: 5000 })])]);
    const long = new Client(port);
    expect(await long.greeting()).toBe('a');

    await proxy.place([route('web', port, [endpoint(b.address)], { revision: 2 })]);
    expect(routeStats(proxy, 'web').endpoints.map((e) => e.key)).toEqual([b.address, a.address]);
    expect(endpointStats(proxy, 'web', a.address).health).toBe(BackendHealth.BACKEND_HEALTH_DRAINING);
    expect(await oneShot(port)).toBe('b');
    long.sock.write('pong');
    await long.receive('pong');

    // Back in the table before its connection ended: the same endpoint, counters and connection kept.
    await proxy.place([route('web', port, [endpoint(a.address), endpoint(b.address)], { revision: 3 })]);
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({ active: 1, total: 1 });
    long.sock.end();
    await long.closed();
    await eventually(
      'the connection to A counted as closed',
      () => endpointStats(proxy, 'web', a.address).active === 0,
    );
    // Its checks run again: a crash is noticed.
    await a.stop();
    await healthOf(proxy, 'web', a.address, BackendHealth.BACKEND_HEALTH_UNHEALTHY);
  });

  it('a removed route stops accepting at once while its open connection drains', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address, { drainTimeoutMs: 300 })])]);
    const long = new Client(port);
    expect(await long.greeting()).toBe('a');

    await proxy.place([]);
    expect(proxy.stats()).toEqual([]);
    const late = new Client(port);
    await late.closed();
    expect(late.received).toBe('');
    long.sock.write('after');
    await long.receive('after');
    await long.closed();
  });

  it('a route that moves to another port keeps its open connections', async () => {
    const a = await Backend.start('a');
    const [p1, p2] = [await freePort(), await freePort()];
    const proxy = startProxy();
    await proxy.place([route('web', p1, [endpoint(a.address)])]);
    const long = new Client(p1);
    await long.greeting();
    await proxy.place([route('web', p2, [endpoint(a.address)], { revision: 2 })]);
    expect(await oneShot(p2)).toBe('a');
    long.sock.write('moved');
    await long.receive('moved');
    expect(routeStats(proxy, 'web')).toMatchObject({ listening: true, revision: 2, active: 1 });
  });
});
