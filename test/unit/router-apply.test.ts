import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/controller/store.js';
import { YardError } from '../../src/core/errors.js';
import type { Route, RouteStatus } from '../../src/core/route.js';
import { route, routerFixture, type RouterFixture } from './router-fixture.js';

const weightsOf = (r: Route | undefined) => Object.fromEntries((r?.backends ?? []).map((b) => [b.version, b.weight]));
const blueGreen = (blue: number, green: number, port = 80) =>
  route('web', 'edge', port, [
    { address: '127.0.0.1:9001', weight: blue, version: 'blue' },
    { address: '127.0.0.1:9002', weight: green, version: 'green' },
  ]);

describe('Router: apply', () => {
  let f: RouterFixture;
  beforeEach(async () => {
    f = await routerFixture();
    f.connect('edge');
    f.connect('edge2');
    f.connect('h1', { proxy: false, advertise: '10.0.0.1' });
    f.run('h1', 'api', [8080]);
    f.run('h1', 'portless', []);
  });
  afterEach(() => f.cleanup());

  it('stores the route, places it, records the change and tells listeners', async () => {
    const seen: RouteStatus[] = [];
    f.router.on('route', (s) => seen.push(s));
    const { routes, changes } = await f.router.apply([blueGreen(100, 0)], 'ann');
    expect(routes[0]).toMatchObject({
      serverId: 'edge',
      error: '',
      route: { name: 'web', revision: 1, updatedBy: 'ann', updatedMs: f.clock.now },
    });
    expect(changes).toEqual([
      expect.objectContaining({
        service: 'web',
        action: 'apply',
        who: 'ann',
        after: expect.objectContaining({ revision: 1 }),
      }),
    ]);
    expect(changes[0]).not.toHaveProperty('before');
    expect(f.store.route('web')?.revision).toBe(1);
    expect(f.links.last('edge')!.map((r) => r.name)).toEqual(['web']);
    expect(seen.map((s) => s.route!.name)).toContain('web');

    // The same table again changes nothing; a new one is revision 2 with the old as `before`.
    expect((await f.router.apply([blueGreen(100, 0)], 'bob')).changes).toEqual([]);
    const again = await f.router.apply([blueGreen(50, 50)], 'bob');
    expect(again.changes[0]).toMatchObject({ before: { revision: 1 }, after: { revision: 2, updatedBy: 'bob' } });
    expect(f.router.changes('web').map((c) => c.action)).toEqual(['apply', 'apply']);
  });

  it('checks a dry run fully but places and stores nothing', async () => {
    const sent = f.links.placed.length;
    const { routes, changes } = await f.router.apply([blueGreen(100, 0)], 'ann', true);
    expect(routes[0]!.route!.name).toBe('web');
    expect(changes).toHaveLength(1);
    expect(f.links.placed.length).toBe(sent);
    expect(f.store.routes()).toEqual([]);
    expect(f.router.changes()).toEqual([]);
    await expect(
      f.router.apply([route('web', 'h1', 80, [{ address: '127.0.0.1:9001', weight: 1 }])], 'ann', true),
    ).rejects.toThrow(/not a proxy/);
  });

  const refusals: [string, (f: RouterFixture) => Route[], string, RegExp][] = [
    [
      'an unknown workload',
      () => [route('web', 'edge', 80, [{ workload: 'api-blue', weight: 100 }])],
      'NOT_FOUND',
      /route web: unknown workload api-blue: `yard ps` lists workloads/,
    ],
    [
      'a server that is not a proxy',
      () => [route('web', 'h1', 80, [{ workload: 'api', weight: 100 }])],
      'FAILED_PRECONDITION',
      /server h1 is not a proxy: start its agent with `yard agent --proxy`/,
    ],
    [
      'an unknown server',
      () => [route('web', 'edge-9', 80, [{ workload: 'api', weight: 100 }])],
      'NOT_FOUND',
      /no server "edge-9"/,
    ],
    [
      'a proxy that is not connected',
      (x) => {
        x.links.online.delete('edge');
        return [blueGreen(100, 0)];
      },
      'UNAVAILABLE',
      /proxy edge is not connected/,
    ],
    [
      'a port another service listens on',
      () => [route('api', 'edge', 8080, [{ workload: 'api', weight: 100 }])],
      'PORT_IN_USE',
      /port 8080 on edge is already used by service other/,
    ],
    ['the same service twice', () => [blueGreen(100, 0), blueGreen(50, 50)], 'ALREADY_EXISTS', /duplicate service web/],
    [
      'a workload with no port',
      () => [route('web', 'edge', 80, [{ workload: 'portless', weight: 100 }])],
      'INVALID_ARGUMENT',
      /workload portless declares no port: run it with --port, or give the backend a port/,
    ],
    [
      'a weight over 100',
      () => [{ ...blueGreen(100, 0), backends: [{ ...blueGreen(100, 0).backends[0]!, weight: 101 }] }],
      'INVALID_ARGUMENT',
      /route web: backends\[0\]\.weight must be from 0 to 100/,
    ],
  ];
  it.each(refusals)('refuses %s, changing nothing', async (_what, routes, code, message) => {
    await f.router.apply([route('other', 'edge', 8080, [{ address: '127.0.0.1:7000', weight: 1 }])], 'ann');
    // To edge only: the re-placement the other proxies' connects asked for (debounced) may land
    // at any time on a loaded machine, and sends edge2 its empty set.
    const toEdge = () => f.links.placed.filter((p) => p.serverId === 'edge').length;
    const sent = toEdge();
    const err = await f.router.apply(routes(f), 'ann').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(YardError);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(f.store.routes().map((r) => r.name)).toEqual(['other']);
    expect(toEdge()).toBe(sent);
    expect(f.router.changes().map((c) => c.service)).toEqual(['other']);
  });

  it('changes nothing when a proxy refuses, and re-places the old set where it had placed the new one', async () => {
    await f.router.apply([route('a', 'edge', 81, [{ address: '127.0.0.1:7001', weight: 1 }])], 'ann');
    const sent = f.links.placed.length;
    f.links.refusals.set(
      'edge2',
      new YardError(
        'PORT_IN_USE',
        'cannot listen on 0.0.0.0:82 for route c: the port is in use on this host; pick another listen port',
      ),
    );
    const b = route('b', 'edge', 82, [{ address: '127.0.0.1:7002', weight: 1 }]);
    const c = route('c', 'edge2', 82, [{ address: '127.0.0.1:7003', weight: 1 }]);
    await expect(f.router.apply([b, c], 'ann')).rejects.toMatchObject({
      code: 'PORT_IN_USE',
      message: expect.stringMatching(/route c/),
    });
    expect(f.links.placed.slice(sent).map((p) => `${p.serverId}:${p.routes.map((r) => r.name).join('+')}`)).toEqual([
      'edge:a+b',
      'edge2:c',
      'edge:a',
    ]);
    expect(f.store.routes().map((r) => r.name)).toEqual(['a']);
    expect(f.router.changes().map((c) => c.service)).toEqual(['a']);
  });

  it('shows why a route is not applied: proxy away, or a re-placement it refused', async () => {
    await f.router.apply([route('web', 'edge', 80, [{ workload: 'api', weight: 100 }])], 'ann');
    f.links.refusals.set('edge', new YardError('LISTEN_FAILED', 'cannot listen on 0.0.0.0:80: permission denied'));
    f.connect('h2', { proxy: false, advertise: '10.0.0.2' });
    f.run('h2', 'api', [8080]);
    await f.placedOn('edge', (r) => r[0]!.endpoints.length === 2, 'the second instance sent to edge');
    await expect
      .poll(() => f.router.get('web').error, { timeout: 2000 })
      .toBe('not applied on edge: cannot listen on 0.0.0.0:80: permission denied');
    f.links.refusals.delete('edge');
    f.run('h2', 'api', [9090]);
    await expect.poll(() => f.router.get('web').error, { timeout: 2000 }).toBe('');
    f.links.online.delete('edge');
    expect(f.router.get('web')).toMatchObject({ error: 'proxy edge is disconnected', listening: false });
  });

  it('removes a deleted route from its proxy, even one that moved, and records it', async () => {
    const removed: string[] = [];
    f.router.on('removed', (name) => removed.push(name));
    await f.router.apply([blueGreen(100, 0)], 'ann');
    await f.router.apply([route('web', 'edge2', 80, [{ address: '127.0.0.1:9001', weight: 1 }])], 'ann');
    expect(f.links.last('edge')).toEqual([]);
    expect(f.links.last('edge2')!.map((r) => r.name)).toEqual(['web']);
    const change = await f.router.delete('web', 'bob');
    expect(change).toMatchObject({ action: 'delete', who: 'bob', before: { revision: 2 } });
    expect(change).not.toHaveProperty('after');
    expect(f.links.last('edge2')).toEqual([]);
    expect(removed).toEqual(['web']);
    expect(() => f.router.get('web')).toThrow('no route "web": `yard routes` lists them');
    await expect(f.router.delete('web', 'bob')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(() => f.router.get('constructor')).toThrow('no route "constructor"');
  });

  it('refuses a store file whose routes or changes are malformed, naming the field', async () => {
    const file = join(f.dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ version: 1, controllerId: 'x', servers: {}, routes: { web: { name: 'web', backends: [] } } }),
    );
    await expect(Store.open({ file })).rejects.toThrow(/has a bad field: routes\.web\.listen is required/);
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        controllerId: 'x',
        servers: {},
        routeChanges: [{ atMs: 1, who: 'a', action: 'apply' }],
      }),
    );
    await expect(Store.open({ file })).rejects.toThrow(/has a bad field: routeChanges\[0\]\.service is required/);
  });

  it('keeps routes and their history in the store, and places them when the proxy reconnects', async () => {
    await f.router.apply([blueGreen(100, 0)], 'ann');
    await f.store.flush();
    f.router.close();
    f.links.online.delete('edge');
    const reopened = await Store.open({ file: f.file });
    expect(reopened.routes().map((r) => r.name)).toEqual(['web']);
    expect(reopened.routeChanges()).toHaveLength(1);
    const router = f.newRouter(reopened);
    expect(router.list().map((s) => [s.route!.revision, s.error])).toEqual([[1, 'proxy edge is disconnected']]);
    f.links.placed.length = 0;
    f.connect('edge');
    const placed = await f.placedOn('edge', (r) => r.length === 1, 'web placed after the reconnect');
    expect(placed[0]!.name).toBe('web');
    await expect.poll(() => router.get('web').error, { timeout: 2000 }).toBe('');
  });
});

describe('Router: weights, drain, rollback', () => {
  let f: RouterFixture;
  beforeEach(async () => {
    f = await routerFixture();
    f.connect('edge');
    await f.router.apply([blueGreen(100, 0)], 'ann');
  });
  afterEach(() => f.cleanup());

  it('sets weights by version, places them and records a weight change', async () => {
    const { route: status, change } = await f.router.setWeights('web', { blue: 20, green: 80 }, 'bob');
    expect(weightsOf(status.route)).toEqual({ blue: 20, green: 80 });
    expect(change).toMatchObject({
      action: 'weight',
      who: 'bob',
      note: 'blue=20 green=80',
      before: { revision: 1 },
      after: { revision: 2 },
    });
    expect(f.links.last('edge')![0]!.endpoints.map((e) => [e.version, e.weight, e.draining])).toEqual([
      ['blue', 20, false],
      ['green', 80, false],
    ]);
    await expect(f.router.setWeights('web', { purple: 10 }, 'bob')).rejects.toThrow(
      /no backend with version "purple"; its versions: blue, green/,
    );
    await expect(f.router.setWeights('web', { blue: 0, green: 0 }, 'bob')).rejects.toThrow(
      /nothing would take its traffic/,
    );
    expect(f.store.route('web')!.revision).toBe(2);
  });

  it('drains a backend by version with a deadline, and refuses to drain the last one taking traffic', async () => {
    await f.router.setWeights('web', { blue: 50, green: 50 }, 'bob');
    const { change } = await f.router.drain('web', 'green', 2000, 'bob');
    expect(change.action).toBe('drain');
    expect(f.store.route('web')!.backends[1]).toMatchObject({
      version: 'green',
      drain: true,
      weight: 0,
      drainTimeoutMs: 2000,
    });
    expect(f.links.last('edge')![0]!.endpoints[1]).toMatchObject({ draining: true, drainTimeoutMs: 2000 });
    await expect(f.router.drain('web', 'blue', 0, 'bob')).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/would leave web with no backend taking traffic/),
    });
    await expect(f.router.drain('web', 'nope', 0, 'bob')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rolls back to the table before the last change, and refuses when there is none', async () => {
    await expect(f.router.rollback('web', 'bob')).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: 'web has no earlier table: `yard route delete web` removes it',
    });
    await f.router.setWeights('web', { blue: 10, green: 90 }, 'bob');
    const { route: status, change } = await f.router.rollback('web', 'cat');
    expect(weightsOf(status.route)).toEqual({ blue: 100, green: 0 });
    expect(change).toMatchObject({ action: 'rollback', who: 'cat', after: { revision: 3 } });
    expect(f.router.changes('web').map((c) => c.action)).toEqual(['rollback', 'weight', 'apply']);
    expect(f.router.changes('web', 1)).toHaveLength(1);
    // A deleted service comes back with a rollback.
    await f.router.delete('web', 'bob');
    await f.router.rollback('web', 'bob');
    expect(f.links.last('edge')!.map((r) => r.name)).toEqual(['web']);
    await expect(f.router.rollback('nope', 'bob')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('keeps the newest 500 changes', async () => {
    for (let i = 0; i < 505; i++)
      f.store.addRouteChange({ atMs: i, who: 'x', service: 'web', action: 'weight', note: String(i) });
    const all = f.router.changes();
    expect(all).toHaveLength(500);
    expect(all[0]!.note).toBe('504');
  });
});
