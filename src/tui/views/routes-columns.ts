import type { EndpointState } from '../../core/domain.js';
import type { FleetRoute, FleetSource } from '../../core/fleet.js';
import { bar } from '../render/bar.js';
import type { Column } from '../render/columns.js';
import { trafficText } from '../../core/format/bytes.js';
import { countText } from '../../core/format/numbers.js';
import { padLeft } from '../render/format.js';
import type { Look } from '../render/look.js';
import { endpointLabel, healthMark } from '../render/route.js';
import { sparkline } from '../render/sparkline.js';

/** One backend's row of the Routes view: the endpoint and the route it belongs to. */
export interface EndpointRow {
  route: FleetRoute;
  endpoint: EndpointState;
}

export interface RouteColumnsContext {
  source: FleetSource;
  look: Look;
}

/** The weight bar's cells; the number follows it. */
const WEIGHT_BAR = 6;

function note(e: EndpointState): string {
  if (e.endpoint.detail) return e.endpoint.detail;
  if (e.stats?.healthDetail) return e.stats.healthDetail;
  if (e.endpoint.held) return 'held: new connections wait for it';
  // An address backend is named by its address already.
  return e.endpoint && e.endpoint.address !== e.endpoint.backend ? e.endpoint.address : '';
}

/**
 * The columns of a backend's row, most important first when the terminal is narrow. The
 * traffic sparkline is drawn as wide as its column is: `sparkWidth` says how wide that is
 * this frame (the view knows once the columns are fitted).
 */
export function endpointColumns(
  c: RouteColumnsContext,
  sparkWidth: () => number,
): { columns: Column<EndpointRow>[]; traffic: Column<EndpointRow> } {
  const { glyphs, theme } = c.look;
  const u = glyphs.unknown;
  const traffic: Column<EndpointRow> = {
    title: 'TRAFFIC',
    width: 8,
    flex: 1,
    priority: 3,
    cell: (r) => sparkline(r.route.history(r.endpoint.endpoint.key), sparkWidth(), glyphs),
    colour: () => theme.series[0]!,
  };
  const columns: Column<EndpointRow>[] = [
    { title: '  BACKEND', width: 17, flex: 1, priority: 1, cell: (r) => `  ${endpointLabel(r.endpoint, c.source)}` },
    { title: 'VERSION', width: 7, priority: 2, cell: (r) => r.endpoint.endpoint.version || u },
    {
      title: 'WEIGHT',
      width: WEIGHT_BAR + 4,
      priority: 1,
      cell: (r) => {
        const weight = r.endpoint.endpoint.weight;
        const { filled, empty } = bar(weight, WEIGHT_BAR, glyphs);
        return `${filled}${empty}${padLeft(String(weight), 4)}`;
      },
      colour: (r) => (r.endpoint.endpoint.draining ? theme.states.draining : theme.series[0]!),
    },
    {
      title: 'HEALTH',
      width: 11,
      priority: 1,
      cell: (r) => healthMark(r.endpoint, c.look).text,
      colour: (r) => healthMark(r.endpoint, c.look).colour,
    },
    { title: 'CONN', width: 4, align: 'right', priority: 3, cell: (r) => countText(r.endpoint.stats?.active, u) },
    { title: 'TOTAL', width: 6, align: 'right', priority: 5, cell: (r) => countText(r.endpoint.stats?.total, u) },
    {
      title: 'RATE',
      width: 8,
      align: 'right',
      priority: 4,
      cell: (r) => (r.endpoint.stats ? trafficText(r.endpoint.bytesPerSec, u) : u),
    },
    traffic,
    { title: 'NOTE', width: 14, flex: 1, priority: 6, cell: (r) => note(r.endpoint), colour: () => theme.muted },
  ];
  return { columns, traffic };
}
