import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EndpointStats, RouteStats, RouteStatus } from '../../src/core/route.js';
import { endpointStats, route, routerFixture, type RouterFixture } from './router-fixture.js';

const report = (name: string, endpoints: EndpointStats[], extra: Partial<RouteStats> = {}): RouteStats => ({
  name,
  revision: 1,
  listening: true,
  error: '',
  endpoints,
  heldTotal: 0,
  heldNow: 0,
  heldMaxMs: 0,
  refused: 0,
  active: 0,
  total: 0,
  ...extra,
});

describe('Router: proxy reports', () => {
  let f: RouterFixture;
  beforeEach(async () => {
    f = await routerFixture();
    f.connect('edge');
    f.connect('edge2');
    await f.router.apply(
      [
        route('web', 'edge', 80, [
          { address: '127.0.0.1:9001', weight: 50, version: 'blue' },
          { address: '127.0.0.1:9002', weight: 50, version: 'green' },
        ]),
      ],
      'ann',
    );
  });
  afterEach(() => f.cleanup());

  it('computes bytes/s per endpoint and per route from the change between reports', () => {
    const seen: RouteStatus[] = [];
    f.router.on('route', (s) => seen.push(s));
    f.router.report('edge', [
      report('web', [
        endpointStats('127.0.0.1:9001', { bytesIn: 1000, bytesOut: 1000 }),
        endpointStats('127.0.0.1:9002'),
      ]),
    ]);
    expect(f.router.get('web')).toMatchObject({ bytesPerSec: 0, statsMs: f.clock.now, listening: true });
    f.clock.now += 2000;
    f.router.report('edge', [
      report(
        'web',
        [
          endpointStats('127.0.0.1:9001', { bytesIn: 3000, bytesOut: 3000, active: 2 }),
          endpointStats('127.0.0.1:9002', { bytesIn: 500, bytesOut: 500 }),
        ],
        { active: 2, total: 7, refused: 1, heldTotal: 3, heldMaxMs: 12.5 },
      ),
    ]);
    const s = f.router.get('web');
    expect(s.endpoints.map((e) => [e.endpoint!.key, e.bytesPerSec, e.stats?.active])).toEqual([
      ['127.0.0.1:9001', 2000, 2],
      ['127.0.0.1:9002', 500, 0],
    ]);
    expect(s).toMatchObject({
      bytesPerSec: 2500,
      active: 2,
      total: 7,
      refused: 1,
      heldTotal: 3,
      heldMaxMs: 12.5,
      statsMs: f.clock.now,
    });
    expect(seen).toHaveLength(2);
  });

  it('never shows a negative rate when a counter goes backwards (the proxy restarted)', () => {
    f.router.report('edge', [report('web', [endpointStats('127.0.0.1:9001', { bytesIn: 50_000 })])]);
    f.clock.now += 1000;
    f.router.report('edge', [report('web', [endpointStats('127.0.0.1:9001', { bytesIn: 100 })])]);
    expect(f.router.get('web').endpoints[0]!.bytesPerSec).toBe(0);
    f.clock.now += 1000;
    f.router.report('edge', [report('web', [endpointStats('127.0.0.1:9001', { bytesIn: 1100 })])]);
    expect(f.router.get('web').endpoints[0]!.bytesPerSec).toBe(1000);
  });

  it('ignores reports of routes that are not placed on the reporting proxy', () => {
    const seen: RouteStatus[] = [];
    f.router.on('route', (s) => seen.push(s));
    f.router.report('edge2', [report('web', [endpointStats('127.0.0.1:9001', { active: 9 })])]);
    f.router.report('edge', [report('nope', [endpointStats('127.0.0.1:9001', { active: 9 })])]);
    expect(seen).toEqual([]);
    expect(f.router.get('web')).toMatchObject({ statsMs: 0, active: 0 });
    expect(f.router.get('web').endpoints[0]!.stats).toBeUndefined();
  });

  it('shows the listener error the proxy reports', () => {
    f.router.report('edge', [
      report('web', [], { listening: false, error: 'cannot listen on 0.0.0.0:80: permission denied' }),
    ]);
    expect(f.router.get('web')).toMatchObject({
      listening: false,
      error: 'cannot listen on 0.0.0.0:80: permission denied',
    });
  });

  it('places the same set again when the proxy comes back on a new session (a restarted agent)', async () => {
    f.links.placed.length = 0;
    f.connect('edge');
    const placed = await f.placedOn('edge', (r) => r.length === 1, 'web placed on the new session');
    expect(placed[0]!.name).toBe('web');
  });
});
