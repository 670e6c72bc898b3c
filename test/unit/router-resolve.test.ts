import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkloadState } from '../../src/core/workload.js';
import { endpointStats, route, routerFixture, type RouterFixture } from './router-fixture.js';

const byKey = (routes: { endpoints: { key: string }[] }[] | undefined) =>
  Object.fromEntries((routes?.[0]?.endpoints ?? []).map((e) => [e.key, e]));

describe('Router: backends resolved to endpoints', () => {
  let f: RouterFixture;
  beforeEach(async () => {
    f = await routerFixture();
    f.connect('edge');
    f.connect('h1', { proxy: false, advertise: '192.168.1.5' });
    f.connect('h2', { proxy: false, addresses: ['fd00::7', '10.0.0.2'] });
  });
  afterEach(() => f.cleanup());

  it("dials a workload at its server's advertised address and its first port", async () => {
    f.run('h1', 'api', [8080, 9090]);
    await f.router.apply(
      [
        route('web', 'edge', 80, [
          { workload: 'api', weight: 100, version: 'blue' },
          { address: '127.0.0.1:9000', weight: 0, version: 'green' },
        ]),
      ],
      'ann',
    );
    const [placed] = f.links.last('edge')!;
    expect(placed).toMatchObject({ name: 'web', listenHost: '0.0.0.0', listenPort: 80, revision: 1 });
    expect(placed!.endpoints).toEqual([
      {
        key: 'api@h1',
        address: '192.168.1.5:8080',
        weight: 100,
        version: 'blue',
        backend: 'api',
        draining: false,
        drainTimeoutMs: 30_000,
        held: false,
        detail: '',
      },
      {
        key: '127.0.0.1:9000',
        address: '127.0.0.1:9000',
        weight: 0,
        version: 'green',
        backend: '127.0.0.1:9000',
        draining: false,
        drainTimeoutMs: 30_000,
        held: false,
        detail: '',
      },
    ]);
  });

  it("uses the backend's own port, and the server's first address (bracketed IPv6) when it advertises none", async () => {
    f.run('h2', 'api', [8080]);
    await f.router.apply([route('web', 'edge', 80, [{ workload: 'api', port: 7000, weight: 100 }])], 'ann');
    expect(byKey(f.links.last('edge'))['api@h2']).toMatchObject({ address: '[fd00::7]:7000' });
  });

  it('gives a workload that is not running one endpoint with no address, saying why', async () => {
    f.run('h1', 'api', [8080], WorkloadState.WORKLOAD_STATE_EXITED);
    await f.router.apply(
      [
        route('web', 'edge', 80, [
          { workload: 'api', weight: 60 },
          { address: '127.0.0.1:9000', weight: 40 },
        ]),
      ],
      'ann',
    );
    expect(byKey(f.links.last('edge'))['api@-']).toEqual({
      key: 'api@-',
      address: '',
      weight: 60,
      version: '',
      backend: 'api',
      draining: false,
      drainTimeoutMs: 30_000,
      held: false,
      detail: 'workload api is not running',
    });
    expect(f.router.get('web').endpoints.map((e) => e.endpoint!.detail)).toEqual(['workload api is not running', '']);
  });

  it('gives each live instance its own endpoint, and follows the workload when it moves', async () => {
    f.run('h1', 'api', [8080]);
    f.run('h2', 'api', [8080]);
    await f.router.apply([route('web', 'edge', 80, [{ workload: 'api', weight: 100 }])], 'ann');
    expect(Object.keys(byKey(f.links.last('edge')))).toEqual(['api@h1', 'api@h2']);
    f.run('h1', 'api', [8080], WorkloadState.WORKLOAD_STATE_CHECKPOINTED);
    const moved = await f.placedOn('edge', (r) => r[0]!.endpoints.length === 1, 'web re-placed with one endpoint');
    expect(moved[0]!.endpoints[0]).toMatchObject({ key: 'api@h2', address: '[fd00::7]:8080' });
    // The same set again is not sent again.
    const sent = f.links.placed.length;
    f.run('h2', 'api', [8080]);
    await new Promise((r) => setTimeout(r, 120));
    expect(f.links.placed.length).toBe(sent);
  });
});

describe('Router: migration hooks', () => {
  let f: RouterFixture;
  beforeEach(async () => {
    f = await routerFixture();
    f.connect('edge');
    f.connect('h1', { proxy: false, advertise: '10.0.0.1' });
    f.connect('h2', { proxy: false, advertise: '10.0.0.2' });
    f.run('h1', 'api', [8080]);
    await f.router.apply(
      [
        route('web', 'edge', 80, [
          { workload: 'api', weight: 80, version: 'v1' },
          { address: '127.0.0.1:9000', weight: 20 },
        ]),
      ],
      'ann',
    );
  });
  afterEach(() => f.cleanup());

  it('holds every endpoint of the workload, and releases it to where it runs', async () => {
    expect(f.router.backs('api')).toBe(true);
    expect(f.router.backs('db')).toBe(false);
    await f.router.hold('api');
    expect(byKey(f.links.last('edge'))['api@h1']).toMatchObject({ held: true, address: '10.0.0.1:8080' });
    expect(byKey(f.links.last('edge'))['127.0.0.1:9000']).toMatchObject({ held: false });
    await f.router.release('api');
    expect(byKey(f.links.last('edge'))['api@h1']).toMatchObject({ held: false });
    expect(f.store.route('web')!.revision).toBe(1);
    expect(f.router.changes('web')).toHaveLength(1);
  });

  it('keeps clients waiting when released while the workload runs nowhere, until it is live again', async () => {
    await f.router.hold('api');
    f.run('h1', 'api', [8080], WorkloadState.WORKLOAD_STATE_CHECKPOINTED);
    await f.router.release('api');
    expect(byKey(f.links.last('edge'))['api@-']).toMatchObject({ held: true, address: '' });
    f.run('h2', 'api', [8080]);
    const after = await f.placedOn('edge', (r) => r[0]!.endpoints.some((e) => e.key === 'api@h2'), 'api placed on h2');
    expect(byKey(after)['api@h2']).toMatchObject({ held: false, address: '10.0.0.2:8080', weight: 80 });
  });

  it("splits the workload's weight between source and target, the target present at share 0", async () => {
    await f.router.split('api', { sourceServerId: 'h1', targetServerId: 'h2', targetShare: 0, sourceDraining: false });
    expect(byKey(f.links.last('edge'))).toMatchObject({
      'api@h1': { weight: 80, draining: false, address: '10.0.0.1:8080' },
      'api@h2': { weight: 0, draining: false, address: '10.0.0.2:8080', version: 'v1' },
    });
    await f.router.split('api', { sourceServerId: 'h1', targetServerId: 'h2', targetShare: 25, sourceDraining: false });
    expect(byKey(f.links.last('edge'))).toMatchObject({ 'api@h1': { weight: 60 }, 'api@h2': { weight: 20 } });
    await f.router.split('api', { sourceServerId: 'h1', targetServerId: 'h2', targetShare: 100, sourceDraining: true });
    expect(byKey(f.links.last('edge'))).toMatchObject({
      'api@h1': { weight: 0, draining: true },
      'api@h2': { weight: 80, draining: false },
    });
    await expect(
      f.router.split('api', { sourceServerId: 'h1', targetServerId: 'h2', targetShare: 101, sourceDraining: false }),
    ).rejects.toThrow(/from 0 to 100/);
    f.run('h2', 'api', [8080]);
    f.run('h1', 'api', [8080], WorkloadState.WORKLOAD_STATE_EXITED);
    await f.router.release('api');
    expect(Object.keys(byKey(f.links.last('edge')))).toEqual(['api@h2', '127.0.0.1:9000']);
  });

  it('does nothing for a workload that backs no route', async () => {
    const sent = f.links.placed.length;
    await f.router.hold('db');
    await f.router.release('db');
    expect(f.links.placed.length).toBe(sent);
  });

  it("reports the workload's endpoint stats on each route, zeros until its proxy reports", () => {
    expect(f.router.endpointStats('api', 'h1')).toEqual([
      { active: 0, connectErrors: 0, checksPassing: false, health: 0, reportedMs: 0 },
    ]);
    f.router.report('edge', [
      {
        name: 'web',
        revision: 1,
        listening: true,
        error: '',
        endpoints: [endpointStats('api@h1', { active: 3, connectErrors: 1 })],
        heldTotal: 0,
        heldNow: 0,
        heldMaxMs: 0,
        refused: 0,
        active: 3,
        total: 9,
      },
    ]);
    expect(f.router.endpointStats('api', 'h1')).toEqual([
      { active: 3, connectErrors: 1, checksPassing: true, health: 1, reportedMs: f.clock.now },
    ]);
    expect(f.router.endpointStats('api', 'h2')).toEqual([
      { active: 0, connectErrors: 0, checksPassing: false, health: 0, reportedMs: f.clock.now },
    ]);
  });
});
