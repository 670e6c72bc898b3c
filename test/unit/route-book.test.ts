import { describe, expect, it } from 'vitest';
import { ROUTE_HISTORY_POINTS, RouteBook } from '../../src/core/route-book.js';
import type { RouteState } from '../../src/core/domain.js';
import { ROUTE_LIMITS } from '../../src/core/route.js';
import { sampleRoutes, statusOf } from '../tui/fixture-routes.js';

const BASE = 1_700_000_000_000;
const web = sampleRoutes()[0]!;
const db = sampleRoutes()[1]!;

/** The web route after its proxy's report number `t`, with one endpoint's bytes/s set to `t` (a value the test can read back). */
function webAt(t: number): RouteState {
  const s = statusOf(web, t, BASE);
  s.endpoints[0]!.bytesPerSec = t;
  return s;
}

describe('RouteBook (the routes a dashboard shows)', () => {
  it('keeps a throughput point per report and per endpoint, the newest 120 at most, oldest first', () => {
    const book = new RouteBook();
    expect(book.put(webAt(1))).toBe('table');
    for (let t = 2; t <= 300; t++) expect(book.put(webAt(t))).toBe('counters');
    const route = book.get('web')!;
    const blue = route.history('api-blue@srv-a100');
    expect(blue).toHaveLength(ROUTE_HISTORY_POINTS);
    expect(blue[0]).toBe(181);
    expect(blue[ROUTE_HISTORY_POINTS - 1]).toBe(300);
    expect(route.history('api-green@srv-t4')).toHaveLength(ROUTE_HISTORY_POINTS);
    expect(route.status.statsMs).toBe(BASE + 300_000);
  });

  it('adds a point only when the proxy reported again, not when the table changed', () => {
    const book = new RouteBook();
    book.put(webAt(1));
    const changed = webAt(1);
    changed.route = { ...web, revision: web.revision + 1 };
    expect(book.put(changed)).toBe('table');
    expect(book.get('web')!.status.route?.revision).toBe(web.revision + 1);
    expect(book.get('web')!.history('api-blue@srv-a100')).toEqual([1]);
    // A route its proxy never reported on has no points.
    const silent = new RouteBook();
    silent.put({ ...webAt(1), statsMs: 0 });
    expect(silent.get('web')!.history('api-blue@srv-a100')).toEqual([]);
  });

  it('forgets the history of an endpoint that is gone from the route', () => {
    const book = new RouteBook();
    for (let t = 1; t <= 5; t++) book.put(webAt(t));
    const withoutGreen = webAt(6);
    withoutGreen.endpoints = withoutGreen.endpoints.slice(0, 1);
    book.put(withoutGreen);
    expect(book.get('web')!.history('api-green@srv-t4')).toEqual([]);
    expect(book.get('web')!.history('api-blue@srv-a100')).toEqual([1, 2, 3, 4, 5, 6]);
    // If it comes back, its history starts over.
    book.put(webAt(7));
    expect(book.get('web')!.history('api-green@srv-t4')).toHaveLength(1);
  });

  it('ignores a status older than the one it holds', () => {
    const book = new RouteBook();
    book.put(webAt(5));
    expect(book.put(webAt(4))).toBeUndefined();
    const earlier = webAt(9);
    earlier.route = { ...web, revision: web.revision - 1 };
    expect(book.put(earlier)).toBeUndefined();
    expect(book.get('web')!.status.statsMs).toBe(BASE + 5000);
  });

  it('lists routes by name, replaces the whole table at once and says what changed', () => {
    const book = new RouteBook();
    book.put(webAt(1));
    book.put(statusOf(db, 1, BASE));
    expect(book.list().map((r) => r.status.route?.name)).toEqual(['db', 'web']);
    expect(book.replace([webAt(2)]).sort()).toEqual(['db', 'web']);
    expect(book.list().map((r) => r.status.route?.name)).toEqual(['web']);
    expect(book.remove('web')).toBe(true);
    expect(book.remove('web')).toBe(false);
    expect(book.list()).toEqual([]);
  });

  it('holds no more routes than a routing table may have', () => {
    const book = new RouteBook();
    for (let i = 0; i < ROUTE_LIMITS.routes + 50; i++) book.put(statusOf({ ...web, name: `svc-${i}` }, 1, BASE));
    expect(book.list()).toHaveLength(ROUTE_LIMITS.routes);
    expect(book.put(statusOf({ ...web, name: 'one-too-many' }, 1, BASE))).toBeUndefined();
  });
});
