import type { EndpointState } from '../../core/domain.js';
import type { FleetRoute, FleetSource } from '../../core/fleet.js';
import { policies } from '../../core/route.js';
import { textFilter } from '../filter.js';
import { trafficText } from '../../core/format/bytes.js';
import type { Look } from '../render/look.js';
import { paint } from '../render/paint.js';
import { endpointLabel, listenText, routeMark, segmentLine, type Segment } from '../render/route.js';

/** A row of the Routes view: a service's own line, or one of its backends. */
export type RouteRow =
  | { kind: 'service'; key: string; route: FleetRoute }
  | { kind: 'endpoint'; key: string; route: FleetRoute; endpoint: EndpointState };

const serviceOf = (route: FleetRoute): string => route.status.route.name;

/** Row keys: the service's name, or the name and the endpoint's key (names hold no newline). */
function endpointKey(route: FleetRoute, e: EndpointState): string {
  return `${serviceOf(route)}\n${e.endpoint.key}`;
}

/** The routes the filter lets through: by service, listener, policy, backend, version or address. */
export function filteredRoutes(source: FleetSource, filter: string): readonly FleetRoute[] {
  const all = source.routes();
  if (filter === '') return all;
  const keep = textFilter(filter);
  return all.filter((route) => {
    const s = route.status;
    const endpoints = s.endpoints.flatMap((e) => [endpointLabel(e, source), e.endpoint.version, e.endpoint.address]);
    return keep({
      names: [serviceOf(route), listenText(s, source), policies.name(s.route.policy), ...endpoints],
      labels: {},
    });
  });
}

/** Each route's line, then a line per endpoint. */
export function routeRows(routes: readonly FleetRoute[]): RouteRow[] {
  return routes.flatMap((route): RouteRow[] => [
    { kind: 'service', key: serviceOf(route), route },
    ...route.status.endpoints.map(
      (endpoint): RouteRow => ({ kind: 'endpoint', key: endpointKey(route, endpoint), route, endpoint }),
    ),
  ]);
}

/**
 * A service's line: its name, where it listens, its policy, connections, refusals and
 * throughput, and what is going on (a promotion, an error), cut to `width`.
 */
export function serviceLine(route: FleetRoute, source: FleetSource, width: number, look: Look): string {
  const { theme, glyphs } = look;
  const s = route.status;
  const mark = routeMark(s, look);
  const reported = s.statsMs > 0;
  const segments: Segment[] = [
    { text: serviceOf(route), bold: true },
    { text: listenText(s, source), colour: theme.muted },
    { text: policies.name(s.route.policy), colour: theme.muted },
    { text: reported ? `${s.active} conn` : '' },
    { text: reported ? `${s.refused} refused` : '', colour: s.refused > 0 ? theme.levels.crit : theme.muted },
    { text: reported ? trafficText(s.bytesPerSec, glyphs.unknown) : '' },
    { text: s.error, colour: theme.levels.crit },
    { text: !s.error && reported && !s.listening ? 'not listening' : '', colour: theme.levels.crit },
    { text: s.promotion, colour: theme.levels.warn },
    { text: reported || s.error ? '' : 'no report from its proxy yet', colour: theme.muted },
  ];
  const lead = [...mark.text].length + 1;
  return `${paint(mark.colour, mark.text)} ${segmentLine(segments, width - lead, glyphs.ellipsis)}`;
}
