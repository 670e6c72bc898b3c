import { afterEach, describe, expect, it } from 'vitest';
import { BackendHealth } from '../../src/core/route.js';
import {
  Backend,
  Client,
  cleanup,
  endpoint,
  eventually,
  freePort,
  healthOf,
  oneShot,
  recordingLog,
  route,
  routeStats,
  startProxy,
} from './proxy-harness.js';

afterEach(cleanup);

/** Workload `api` as the controller places it: running on `server` at `address`, or nowhere known (no address). */
const api = (server: string, address: string, patch: Parameters<typeof endpoint>[1] = {}) =>
  endpoint(address, { key: `api@${server}`, backend: 'api', version: 'blue', ...patch });
const unresolved = (patch: Parameters<typeof endpoint>[1] = {}) =>
  api('-', '', { detail: 'workload api is not running', ...patch });

describe('proxy: a backend whose new placement has no address', () => {
  it('keeps serving its last known endpoints until it resolves again, then takes the new address', async () => {
    const a = await Backend.start('a');
    const b = await Backend.start('b');
    const port = await freePort();
    const log = recordingLog();
    const proxy = startProxy(log);
    await proxy.place([route('web', port, [api('h1', a.address)])]);
    await healthOf(proxy, 'web', 'api@h1', BackendHealth.BACKEND_HEALTH_HEALTHY);

    // A restarted controller that has not heard from h1's agent yet.
    await proxy.place([route('web', port, [unresolved()], { revision: 2 })]);
    for (let i = 0; i < 5; i++) expect(await oneShot(port)).toBe('a');
    expect(routeStats(proxy, 'web')).toMatchObject({ refused: 0, revision: 2 });
    expect(routeStats(proxy, 'web').endpoints.map((e) => e.key)).toEqual(['api@h1']);
    expect(log.lines.join('\n')).toMatch(
      /backend api of web has no address in the new table \(workload api is not running\); keeping its last known endpoints: 127\.0\.0\.1:\d+/,
    );

    // It resolves again, elsewhere: the old endpoint goes, the new one serves.
    await proxy.place([route('web', port, [api('h2', b.address)], { revision: 3 })]);
    await healthOf(proxy, 'web', 'api@h2', BackendHealth.BACKEND_HEALTH_HEALTHY);
    expect(await oneShot(port)).toBe('b');
    expect(routeStats(proxy, 'web').endpoints.map((e) => e.key)).toEqual(['api@h2']);
  });

  it('takes the new weight with the kept endpoints', async () => {
    const a = await Backend.start('a');
    const c = await Backend.start('c');
    const port = await freePort();
    const proxy = startProxy();
    const canary = endpoint(c.address, { backend: 'canary', version: 'canary', weight: 50 });
    await proxy.place([route('web', port, [api('h1', a.address, { weight: 50 }), canary])]);
    await healthOf(proxy, 'web', 'api@h1', BackendHealth.BACKEND_HEALTH_HEALTHY);
    await healthOf(proxy, 'web', c.address, BackendHealth.BACKEND_HEALTH_HEALTHY);
    await proxy.place([
      route('web', port, [unresolved({ weight: 100 }), { ...canary, weight: 0, draining: true }], { revision: 2 }),
    ]);
    for (let i = 0; i < 4; i++) expect(await oneShot(port)).toBe('a');
  });

  const goesAway: [string, () => ReturnType<typeof unresolved>[]][] = [
    ['drained', () => [unresolved({ draining: true, weight: 0 })]],
    ['at weight 0', () => [unresolved({ weight: 0 })]],
    ['removed from the route', () => []],
  ];
  for (const [what, endpoints] of goesAway) {
    it(`lets a backend ${what} go: no new connection reaches its old address`, async () => {
      const a = await Backend.start('a');
      const port = await freePort();
      const proxy = startProxy();
      await proxy.place([route('web', port, [api('h1', a.address)])]);
      await healthOf(proxy, 'web', 'api@h1', BackendHealth.BACKEND_HEALTH_HEALTHY);
      await proxy.place([route('web', port, endpoints(), { revision: 2 })]);
      const client = new Client(port);
      await client.closed();
      expect(client.received).toBe('');
      expect(routeStats(proxy, 'web').refused).toBe(1);
    });
  }

  it('holds clients for a cut-over instead of sending them to the old address', async () => {
    const a = await Backend.start('a');
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [api('h1', a.address)])]);
    await healthOf(proxy, 'web', 'api@h1', BackendHealth.BACKEND_HEALTH_HEALTHY);
    await proxy.place([route('web', port, [unresolved({ held: true })], { revision: 2 })]);
    const client = new Client(port);
    await eventually('the client held', () => routeStats(proxy, 'web').heldNow === 1);
    expect(client.received).toBe('');
  });

  it('a proxy with nothing known for the backend has nothing to keep: clients are refused', async () => {
    const port = await freePort();
    const proxy = startProxy();
    await proxy.place([route('web', port, [unresolved()])]);
    const client = new Client(port);
    await client.closed();
    expect(routeStats(proxy, 'web').refused).toBe(1);
  });
});
