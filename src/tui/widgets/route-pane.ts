import type blessed from 'blessed';
import type { FleetRoute } from '../../core/fleet.js';
import { bar } from '../render/bar.js';
import { trafficText } from '../../core/format/bytes.js';
import type { Look } from '../render/look.js';
import { borderStyle, paint } from '../render/paint.js';
import { routeMark, segmentLine, versionWeights, type Segment } from '../render/route.js';
import { borderedBox, hide, indent, labelText, place, type Rect } from './rect.js';

/** Cells of a version's weight bar: a glance, not a measure (the Routes view has the numbers). */
const BAR_CELLS = 3;

/** `web :8080 blue 80 ██▍ green 20 ▋ 12 conn 1.2MB/s ✓`, cut to `width`; tagged. */
function routeSummary(route: FleetRoute, width: number, look: Look): string {
  const { theme, glyphs } = look;
  const s = route.status;
  const mark = routeMark(s, look);
  const segments: Segment[] = [
    { text: s.route.name, bold: true },
    { text: `:${s.route.listen.port}`, colour: theme.muted },
    ...versionWeights(s).flatMap((v, i): Segment[] => [
      { text: `${v.version} ${v.weight}` },
      { text: bar(v.weight, BAR_CELLS, glyphs).filled, colour: theme.series[i % theme.series.length]! },
    ]),
    { text: s.statsMs > 0 ? `${s.active} conn` : '' },
    { text: s.statsMs > 0 ? trafficText(s.bytesPerSec, glyphs.unknown) : '' },
    { text: mark.text, colour: mark.colour },
  ];
  return segmentLine(segments, width, glyphs.ellipsis, ' ');
}

/** Lines (`rows` inside the border) for `routes`: one per service, the last saying how many more there are. */
function paneLines(routes: readonly FleetRoute[], width: number, rows: number, look: Look): string[] {
  const shown = routes.length > rows ? rows - 1 : routes.length;
  const lines = routes.slice(0, shown).map((r) => routeSummary(r, width, look));
  if (shown < routes.length) lines.push(paint(look.theme.muted, `+${routes.length - shown} more: R shows every route`));
  return lines;
}

/** The Fleet view's compact pane of routes, under the cards. */
export class RoutePane {
  private readonly box: blessed.Widgets.BoxElement;
  private label = '';

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = borderedBox(parent);
  }

  show(routes: readonly FleetRoute[], rect: Rect): void {
    const label = labelText(`Routes (${routes.length})`, rect.width, this.look.glyphs.ellipsis);
    if (label !== this.label) {
      this.box.setLabel(label);
      this.label = label;
    }
    this.box.style.border = borderStyle(this.look.theme.border);
    this.box.setContent(indent(paneLines(routes, rect.width - 4, rect.height - 2, this.look)));
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }
}
