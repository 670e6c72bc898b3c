import blessed from 'blessed';
import type { EndpointState } from '../../core/domain.js';
import type { FleetRoute } from '../../core/fleet.js';
import { fitColumns, headerLine, rowLine, type Column, type Fitted } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { hide, labelText, place } from '../widgets/rect.js';
import { ListCursor } from './list-cursor.js';
import { ListView } from './list-view.js';
import { endpointColumns, type EndpointRow } from './routes-columns.js';
import { filteredRoutes, routeRows, serviceLine, type RouteRow } from './routes-rows.js';
import type { BindingSpec } from '../keymap.js';
import { RouteKeys } from '../route-keys.js';
import { onView, type RouteSelection, type ViewContext, type ViewName } from './view.js';

/** The server a backend runs on, from its key ("api-blue@srv-a100"); '' for a plain address. */
function runsOn(e: EndpointState): string {
  const at = e.endpoint.key.lastIndexOf('@');
  return at >= 0 ? e.endpoint.key.slice(at + 1) : '';
}

/**
 * Every route, one block per service: its line (listener, policy, connections, throughput,
 * promotion or error), then a row per backend with its weight, health, connections and a
 * throughput sparkline. j/k select a service or a backend; =, p, u and d act on it.
 */
export class RoutesView extends ListView<RouteRow> {
  readonly name = 'routes' as const;
  private readonly look: Look;
  private readonly box: blessed.Widgets.BoxElement;
  private readonly columns: Column<EndpointRow>[];
  private readonly traffic: Column<EndpointRow>;
  private routes: readonly FleetRoute[] = [];
  private fitted: Fitted<EndpointRow>[] = [];
  /** The first row on screen. */
  private offset = 0;
  /** A wall shows no selection: it turns pages instead. */
  private wallPage = 0;
  private label = '';

  constructor(ctx: ViewContext) {
    super(
      ctx,
      new ListCursor(
        (row) => row.key,
        () => ctx.state.selectedRoute,
        (key) => {
          ctx.state.selectedRoute = key;
        },
      ),
    );
    this.look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.box = blessed.box({
      parent: ctx.parent,
      hidden: true,
      tags: true,
      wrap: false,
      border: { type: 'line' },
      style: { border: {} },
    });
    ({ columns: this.columns, traffic: this.traffic } = endpointColumns({ source: ctx.source, look: this.look }, () =>
      this.sparkWidth(),
    ));
  }

  protected current(): readonly RouteRow[] {
    this.routes = filteredRoutes(this.ctx.source, this.filter());
    return routeRows(this.routes);
  }

  protected draw(width: number, height: number): void {
    const marker = this.ctx.glyphs.selected.length + 1;
    const inner = width - 4 - marker;
    this.fitted = fitColumns(this.columns, inner);
    const selected = this.ctx.wall ? -1 : this.cursor.index(this.rows);
    this.scroll(selected);
    const { theme, glyphs } = this.look;
    const lines = [paint(theme.muted, `${' '.repeat(marker)}${headerLine(this.fitted, glyphs.ellipsis)}`)];
    this.rows.slice(this.offset, this.offset + this.pageRows).forEach((row, i) => {
      const text =
        row.kind === 'service'
          ? serviceLine(row.route, this.ctx.source, inner, this.look)
          : rowLine(this.fitted, row, glyphs.ellipsis);
      lines.push(
        this.offset + i === selected ? `{inverse}${glyphs.selected} ${text}{/inverse}` : `${' '.repeat(marker)}${text}`,
      );
    });
    if (this.rows.length === 0) lines.push(paint(theme.muted, this.emptyText()));
    this.box.setContent(lines.map((line) => ` ${line}`).join('\n'));
    this.setLabel(
      labelText(
        `Routes (${count(this.routes.length, 'service')}, ${count(this.rows.length - this.routes.length, 'backend')})`,
        width,
        glyphs.ellipsis,
      ),
    );
    place(this.box, { left: 0, top: 0, width, height });
  }

  protected clear(): void {
    hide(this.box);
  }

  status(): string {
    const total = this.ctx.source.routes().length;
    if (this.filter() !== '') return `${this.routes.length} of ${total} match`;
    const at = this.cursor.index(this.rows);
    return at >= 0 && !this.ctx.wall ? `${at + 1} of ${this.rows.length}` : count(total, 'service');
  }

  breadcrumb(): string {
    return 'Routes';
  }

  position(): { page: number; pages: number } {
    return { page: this.wallPage, pages: Math.max(1, Math.ceil(this.rows.length / this.pageRows)) };
  }

  override page(delta: number): void {
    if (this.ctx.wall) {
      const { pages } = this.position();
      this.wallPage = Math.min(Math.max(this.wallPage + delta, 0), pages - 1);
      this.ctx.markDirty(this);
      return;
    }
    super.page(delta);
  }

  override edge(which: 'first' | 'last'): void {
    this.wallPage = 0;
    super.edge(which);
  }

  /** Enter: the server the selected backend runs on, or the service's proxy. */
  open(): ViewName | undefined {
    const sel = this.selectedRoute();
    if (!sel) return undefined;
    const id = sel.endpoint ? runsOn(sel.endpoint) : sel.route.status.serverId;
    const server = this.ctx.source.get(id);
    if (!server) return undefined;
    this.ctx.state.selectedId = server.server.id;
    return 'server';
  }

  selectedRoute(): RouteSelection | undefined {
    const row = this.selectedRow();
    if (!row) return undefined;
    return row.kind === 'service' ? { route: row.route } : { route: row.route, endpoint: row.endpoint };
  }

  private sparkWidth(): number {
    return this.fitted.find((f) => f.column === this.traffic)?.width ?? 0;
  }

  /** Keeps the selection in sight; a wall shows its page. */
  private scroll(selected: number): void {
    const visible = this.pageRows;
    if (this.ctx.wall) this.offset = Math.min(this.wallPage, this.position().pages - 1) * visible;
    if (selected >= 0 && selected < this.offset) this.offset = selected;
    if (selected >= this.offset + visible) this.offset = selected - visible + 1;
    this.offset = Math.max(0, Math.min(this.offset, this.rows.length - (this.ctx.wall ? 1 : visible)));
  }

  private emptyText(): string {
    const filter = this.filter();
    return filter === ''
      ? 'No routes yet: `yard route apply -f web.yaml` creates one.'
      : `No route matches "${escapeTags(filter)}". Esc clears the filter.`;
  }

  private setLabel(text: string): void {
    const { theme } = this.look;
    const label = this.ctx.wall ? text : `{bold}${text}{/bold}`;
    if (label !== this.label) {
      this.box.setLabel(label);
      this.label = label;
    }
    this.box.style.border = borderStyle(this.ctx.wall ? theme.border : theme.selected, { bold: !this.ctx.wall });
  }
}

/** "1 service", "3 services". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The route keys act on the selected service or backend: each asks first, and reports in the footer. */
function onRoute(act: (keys: RouteKeys, sel: RouteSelection | undefined) => void) {
  return onView(RoutesView, (v, ui) => act(new RouteKeys(ui), v.selectedRoute()));
}

/** The Routes view's keys. */
export const ROUTES_KEYS: readonly BindingSpec[] = [
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'select the row below (a service, or one of its backends)',
    when: ['routes'],
    action: (a) => a.move(0, 1),
  },
  {
    name: 'up',
    keys: ['k', 'up'],
    description: 'select the row above',
    when: ['routes'],
    action: (a) => a.move(0, -1),
  },
  {
    name: 'open',
    keys: ['enter'],
    description: 'open the server of the selected backend (of a service: its proxy)',
    when: ['routes'],
    hint: 'server',
    action: (a) => a.open(),
  },
  {
    name: 'set-weight',
    keys: ['='],
    description: "set the weight of the selected backend's version, 0-100 (asks first)",
    when: ['routes'],
    hint: 'weight',
    mutates: true,
    action: onRoute((k, sel) => k.weight(sel)),
  },
  {
    name: 'promote',
    keys: ['p'],
    description: "promote the selected backend's version: more traffic in steps, health-gated (asks first)",
    when: ['routes'],
    hint: 'promote',
    mutates: true,
    action: onRoute((k, sel) => k.promote(sel)),
  },
  {
    name: 'rollback',
    keys: ['u'],
    description: 'undo: roll the selected service back to its table before the last change (asks first)',
    when: ['routes'],
    hint: 'rollback',
    mutates: true,
    action: onRoute((k, sel) => k.rollback(sel)),
  },
  {
    name: 'drain',
    keys: ['d'],
    description: 'drain the selected backend: no new connections, open ones finish (asks first)',
    when: ['routes'],
    hint: 'drain',
    mutates: true,
    action: onRoute((k, sel) => k.drain(sel)),
  },
];
