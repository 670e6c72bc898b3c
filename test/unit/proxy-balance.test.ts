import { afterEach, describe, expect, it } from 'vitest';
import { LeastConnections, SmoothWeighted, type Pickable } from '../../src/agent/proxy/balancer.js';
import { BackendHealth, RoutePolicy } from '../../src/core/route.js';
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

const peer = (name: string, weight: number, active = 0): Pickable & { name: string } => ({
  name,
  weight,
  active,
  current: 0,
});

describe('balancers', () => {
  it('smooth weighted round-robin interleaves 75/25 as A A B A, and skips what was tried', () => {
    const a = peer('A', 75);
    const b = peer('B', 25);
    const swrr = new SmoothWeighted();
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => swrr.pick([a, b], [])!.name).join(' ')).toBe('A A B A A A B A');
    expect(swrr.pick([a, b], [a])!.name).toBe('B');
    expect(swrr.pick([a, b], [a, b])).toBeUndefined();
  });

  it('least connections takes the lowest active/weight and breaks ties round-robin', () => {
    const lc = new LeastConnections();
    const a = peer('A', 100, 3);
    const b = peer('B', 100, 1);
    expect(lc.pick([a, b], [])!.name).toBe('B');
    const heavy = peer('H', 100, 2);
    const light = peer('L', 25, 1); // 1/25 > 2/100
    expect(lc.pick([heavy, light], [])!.name).toBe('H');
    const x = peer('X', 50);
    const y = peer('Y', 50);
    const fresh = new LeastConnections();
    expect([1, 2, 3, 4].map(() => fresh.pick([x, y], [])!.name).join(' ')).toBe('X Y X Y');
  });
});

describe('proxy selection over real sockets', () => {
  it('splits 400 sequential connections 75/25 between two backends, none failing', async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [endpoint(a.address, { weight: 75 }), endpoint(b.address, { weight: 25 })])]);
    await healthOf(proxy, 'web', a.address, BackendHealth.BACKEND_HEALTH_HEALTHY);
    await healthOf(proxy, 'web', b.address, BackendHealth.BACKEND_HEALTH_HEALTHY);

    const counts: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const name = await oneShot(port);
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect(counts.a).toBeGreaterThanOrEqual(270);
    expect(counts.a).toBeLessThanOrEqual(330);
    expect(counts.b).toBeGreaterThanOrEqual(70);
    expect(counts.b).toBeLessThanOrEqual(130);
    expect(counts.a! + counts.b!).toBe(400);

    await eventually('every connection closed', () => routeStats(proxy, 'web').active === 0);
    const stats = routeStats(proxy, 'web');
    expect(stats).toMatchObject({ total: 400, refused: 0, listening: true, heldNow: 0 });
    expect(endpointStats(proxy, 'web', a.address)).toMatchObject({ total: counts.a, active: 0, connectErrors: 0 });
    expect(endpointStats(proxy, 'web', b.address)).toMatchObject({ total: counts.b, active: 0, connectErrors: 0 });
  });

  it('least connections sends new connections to the backend with fewer open', async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const proxy = startProxy();
    const lc = { policy: RoutePolicy.ROUTE_POLICY_LEAST_CONNECTIONS };
    await proxy.place([route('web', port, [endpoint(a.address)], lc)]);
    const long = [new Client(port), new Client(port), new Client(port)];
    for (const c of long) expect(await c.greeting()).toBe('a');

    await proxy.place([route('web', port, [endpoint(a.address), endpoint(b.address)], { ...lc, revision: 2 })]);
    await healthOf(proxy, 'web', b.address, BackendHealth.BACKEND_HEALTH_HEALTHY);
    const names = [];
    for (let i = 0; i < 5; i++) names.push(await oneShot(port));
    expect(names).toEqual(['b', 'b', 'b', 'b', 'b']);

    // With three open on A and one held open on B, the next still goes to B (1 < 3).
    const onB = new Client(port);
    expect(await onB.greeting()).toBe('b');
    expect(await oneShot(port)).toBe('b');
    expect(endpointStats(proxy, 'web', a.address).active).toBe(3);
    for (const c of long) {
      c.sock.write('still here');
      await c.receive('still here');
    }
  });
});
