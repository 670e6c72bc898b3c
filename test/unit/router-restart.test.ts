import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredServer } from '../../src/controller/store.js';
import { route, routerFixture, type RouterFixture } from './router-fixture.js';

/** A workload host as the store remembers it: a restarted controller has not heard from it yet. */
const remembered = (id: string): StoredServer => ({
  id,
  name: id,
  hostname: id,
  addresses: ['10.0.0.5'],
  mac: '',
  labels: {},
  location: '',
  agentVersion: '0.1.0',
  firstSeenMs: 1,
  lastSeenMs: 1,
  advertiseAddress: '192.168.1.5',
  transferAddress: '',
  cordoned: false,
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A restarted controller knows its routes and servers from the store, but what runs where only
 * from the agents: until a workload's agent reports, the workload is unresolved, not gone.
 */
describe('Router after a controller restart', () => {
  let f: RouterFixture;
  beforeEach(async () => {
    f = await routerFixture();
    f.registry.restore(remembered('h1'));
  });
  afterEach(() => f.cleanup());

  it('does not re-place a proxy whose workload backend is unresolved only because its agent has not reported yet; places it once it does', async () => {
    f.store.putRoute(route('web', 'edge', 80, [{ workload: 'api', weight: 100, version: 'blue' }]));
    f.connect('edge');
    await pause(200);
    expect(f.links.last('edge')).toBeUndefined();
    expect(f.router.get('web').endpoints.map((e) => e.endpoint!.detail)).toEqual([
      'workload api is not known to run anywhere yet: not heard from h1 since the controller started',
    ]);

    f.connect('h1', { proxy: false, advertise: '192.168.1.5' });
    f.run('h1', 'api', [8080]);
    const placed = await f.placedOn(
      'edge',
      (r) => r[0]?.endpoints[0]?.address === '192.168.1.5:8080',
      'web placed at h1 once h1 reported',
    );
    expect(placed[0]!.endpoints.map((e) => e.key)).toEqual(['api@h1']);
  });

  it('places the table as it is once every known agent has reported: a workload that runs nowhere is not running', async () => {
    f.store.putRoute(route('web', 'edge', 80, [{ workload: 'api', weight: 100 }]));
    f.connect('edge');
    f.connect('h1', { proxy: false });
    f.workloads.replace('h1', []);
    const placed = await f.placedOn('edge', (r) => r.length === 1, 'web placed');
    expect(placed[0]!.endpoints).toMatchObject([{ key: 'api@-', address: '', detail: 'workload api is not running' }]);
  });

  it('does not wait for backends that take no traffic, nor for routes whose backends all resolve', async () => {
    f.connect('h2', { proxy: false, advertise: '192.168.1.6' });
    f.run('h2', 'api', [8080]);
    f.store.putRoute(
      route('web', 'edge', 80, [
        { workload: 'api', weight: 100, version: 'blue' },
        { workload: 'old', weight: 0, version: 'old' },
      ]),
    );
    f.connect('edge');
    const placed = await f.placedOn('edge', (r) => r.length === 1, 'web placed');
    expect(placed[0]!.endpoints.map((e) => [e.key, e.address])).toEqual([
      ['api@h2', '192.168.1.6:8080'],
      ['old@-', ''],
    ]);
  });
});
