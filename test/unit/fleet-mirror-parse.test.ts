import { describe, expect, it } from 'vitest';
import { FleetMirror } from '../../src/cli/fleet-mirror.js';
import { createLogger } from '../../src/core/log.js';
import type { RouteStatus } from '../../src/core/route.js';
import type { Workload } from '../../src/core/workload.js';
import type { WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { sampleRoutes, statusOf } from '../tui/fixture-routes.js';
import { sampleWorkloads } from '../tui/fixture-workloads.js';

const BASE = 1_700_000_000_000;
const [web, db] = [sampleRoutes()[0]!, sampleRoutes()[1]!];
const routeEvent = (s: RouteStatus): WatchFleetResponse => ({ event: { $case: 'route', value: s } });
const workloadEvent = (w: Workload): WatchFleetResponse => ({ event: { $case: 'workload', value: w } });

/** A mirror whose log lines the test reads back. */
function mirror(): { m: FleetMirror; lines: string[] } {
  const lines: string[] = [];
  return {
    m: new FleetMirror(
      undefined,
      createLogger('fleet', (l) => lines.push(l)),
    ),
    lines,
  };
}

describe('FleetMirror parses what the stream sends into domain types (required parts present)', () => {
  it('drops a workload without its spec, says why in the log, and keeps the others', () => {
    const { m, lines } = mirror();
    const [first] = sampleWorkloads(BASE);
    expect(m.apply(workloadEvent(first!.workload))).toHaveLength(1);
    expect(m.apply(workloadEvent({ ...first!.workload, spec: undefined }))).toEqual([]);
    expect(m.workloads().map((w) => w.spec.name)).toEqual([first!.workload.spec!.name]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('WARN');
    expect(lines[0]).toContain('dropped a message of the fleet stream');
    expect(lines[0]).toContain('a workload came without its spec');
  });

  it('drops a route without its table, or with an endpoint that does not say which it is, from events and lists alike', () => {
    const { m, lines } = mirror();
    const faceless = statusOf(db, 1, BASE);
    const broken: RouteStatus = { ...faceless, endpoints: [{ ...faceless.endpoints[0]!, endpoint: undefined }] };
    expect(m.apply(routeEvent({ ...statusOf(web, 1, BASE), route: undefined }))).toEqual([]);
    expect(m.apply(routeEvent(broken))).toEqual([]);
    expect(m.routes()).toEqual([]);
    m.awaitRouteList();
    expect(m.applyRouteList([broken, statusOf(web, 2, BASE)])).toEqual([{ kind: 'route', name: 'web' }]);
    expect(m.routes().map((r) => r.status.route.name)).toEqual(['web']);
    expect(m.learnRoute({ ...statusOf(web, 3, BASE), route: { ...web, listen: undefined } })).toEqual([]);
    expect(lines.map((l) => l.slice(l.indexOf('reason=')))).toEqual([
      expect.stringContaining('a route came without its table'),
      expect.stringContaining("route db: an endpoint's status came without the endpoint it describes"),
      expect.stringContaining("route db: an endpoint's status came without the endpoint it describes"),
      expect.stringContaining('route web: listen is required'),
    ]);
  });
});
