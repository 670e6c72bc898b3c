import { describe, expect, it } from 'vitest';
import { FleetMirror } from '../../src/cli/fleet-mirror.js';
import type { RouteStatus } from '../../src/core/route.js';
import type { WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { sampleRoutes, statusOf } from '../tui/fixture-routes.js';

const BASE = 1_700_000_000_000;
const [web, db] = [sampleRoutes()[0]!, sampleRoutes()[1]!];
const routeEvent = (s: RouteStatus): WatchFleetResponse => ({ event: { $case: 'route', value: s } });
const removed = (name: string): WatchFleetResponse => ({ event: { $case: 'routeRemoved', value: name } });
const names = (m: FleetMirror) => m.routes().map((r) => r.status.route?.name);

describe('FleetMirror routes (an attached dashboard: ListRoutes, then the stream)', () => {
  it('applies route and route_removed events, with throughput history', () => {
    const m = new FleetMirror();
    // The first status is news of the table; the proxy's later reports are counters only.
    for (let t = 1; t <= 3; t++)
      expect(m.apply(routeEvent(statusOf(web, t, BASE)))).toEqual([{ kind: 'route', name: 'web', counters: t > 1 }]);
    expect(m.routes()[0]!.history('api-blue@srv-a100')).toHaveLength(3);
    expect(m.apply(removed('web'))).toEqual([{ kind: 'route', name: 'web' }]);
    expect(m.apply(removed('web'))).toEqual([]);
    expect(m.routes()).toEqual([]);
  });

  it('holds the events that come while a route list is awaited, and applies them after it', () => {
    const m = new FleetMirror();
    m.apply(routeEvent(statusOf(web, 1, BASE)));
    m.awaitRouteList();
    // Said by the stream after the list was asked for: db is deleted, web reported again.
    expect(m.apply(removed('db'))).toEqual([]);
    expect(m.apply(routeEvent(statusOf(web, 5, BASE)))).toEqual([]);
    // The list was made before those events: it still has db, and web's older report.
    const changes = m.applyRouteList([statusOf(db, 1, BASE), statusOf(web, 4, BASE)]);
    expect(changes).toEqual(
      expect.arrayContaining([
        { kind: 'route', name: 'web' },
        { kind: 'route', name: 'db' },
      ]),
    );
    expect(names(m)).toEqual(['web']);
    expect(m.routes()[0]!.status.statsMs).toBe(BASE + 5000);
  });

  it('keeps what it knew when the list cannot be had, and still applies the held events', () => {
    const m = new FleetMirror();
    m.apply(routeEvent(statusOf(db, 1, BASE)));
    m.awaitRouteList();
    m.apply(routeEvent(statusOf(web, 1, BASE)));
    expect(m.applyRouteList(undefined)).toEqual([{ kind: 'route', name: 'web' }]);
    expect(names(m)).toEqual(['db', 'web']);
  });

  it('a list asked for again before the first answer holds the events until the last answer', () => {
    const m = new FleetMirror();
    m.awaitRouteList();
    m.apply(routeEvent(statusOf(web, 1, BASE)));
    m.awaitRouteList();
    m.apply(removed('db'));
    m.applyRouteList([statusOf(db, 1, BASE)]);
    expect(names(m)).toEqual(['db']);
    expect(m.apply(routeEvent(statusOf(web, 2, BASE)))).toEqual([]);
    m.applyRouteList([statusOf(db, 1, BASE)]);
    expect(names(m)).toEqual(['web']);
    expect(m.routes()[0]!.status.statsMs).toBe(BASE + 2000);
    // No list awaited now: events apply at once.
    expect(m.apply(removed('web'))).toEqual([{ kind: 'route', name: 'web' }]);
  });

  it('keeps an action’s answer unless the stream already sent a newer one', () => {
    const m = new FleetMirror();
    m.apply(routeEvent(statusOf(web, 7, BASE)));
    expect(m.learnRoute(statusOf(web, 6, BASE))).toEqual([]);
    const changed = statusOf({ ...web, revision: web.revision + 1 }, 7, BASE);
    expect(m.learnRoute(changed)).toEqual([{ kind: 'route', name: 'web', counters: false }]);
    expect(m.routes()[0]!.status.route?.revision).toBe(web.revision + 1);
  });
});
