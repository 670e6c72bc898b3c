import blessed from 'blessed';
import type { FleetServer } from '../../core/fleet.js';
import { serverFilter } from '../filter.js';
import type { Look } from '../render/look.js';
import { escapeTags, paint } from '../render/paint.js';
import { RoutePane } from '../widgets/route-pane.js';
import { cardHeight, ServerCard } from '../widgets/server-card.js';
import { inTrouble, MIN_WALL_CARD_WIDTH, WALL_CARD_HEIGHT, WallCard } from '../widgets/wall-card.js';
import { columnsFor, pageOf, paginate, routePaneHeight, wallGrid, type GridPage } from './fleet-grid.js';
import type { BindingSpec } from '../keymap.js';
import type { View, ViewContext, ViewName } from './view.js';

/** The servers the filter in force lets through, in the source's order. */
export function filteredFleet(ctx: ViewContext): readonly FleetServer[] {
  const all = ctx.source.list();
  const text = ctx.state.filters.fleet;
  if (text === '') return all;
  const keep = serverFilter(text);
  return all.filter((fs) => keep(fs.server));
}

/** The servers with those in trouble first, each group in its own order. */
function troubleFirst(servers: readonly FleetServer[]): FleetServer[] {
  const trouble = servers.filter((fs) => inTrouble(fs));
  return trouble.length === 0 ? [...servers] : [...trouble, ...servers.filter((fs) => !inTrouble(fs))];
}

/**
 * The grid of server cards, and under it a pane of the routes when there are any (and room).
 * Only the cards of the page on screen exist as widgets, taken from a pool that grows to the
 * most cards one page has held: a frame costs the same for 10 servers or 10,000. On a wall
 * display the cards are wall cards (big numbers, no selection).
 */
export class FleetView implements View {
  readonly name = 'fleet' as const;
  private readonly look: Look;
  private readonly cards: ServerCard[] = [];
  private readonly wallCards: WallCard[] = [];
  private readonly empty: blessed.Widgets.BoxElement;
  private readonly routePane: RoutePane;
  private servers: readonly FleetServer[] = [];
  private pages: GridPage[] = [];
  private columns = 1;
  private current = 0;
  /** A hidden view ignores frames it was marked dirty for before it was hidden. */
  private visible = false;

  constructor(private readonly ctx: ViewContext) {
    this.look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.empty = blessed.box({
      parent: ctx.parent,
      hidden: true,
      top: 'center',
      left: 'center',
      width: '80%',
      height: 3,
      align: 'center',
      tags: true,
    });
    this.routePane = new RoutePane(ctx.parent, this.look);
  }

  update(): void {
    if (!this.visible) return;
    const { width, height: viewHeight } = this.ctx.size();
    const routes = this.ctx.source.routes();
    const paneHeight = routePaneHeight(routes.length, viewHeight);
    const height = viewHeight - paneHeight;
    if (paneHeight > 0) this.routePane.show(routes, { left: 0, top: height, width, height: paneHeight });
    else this.routePane.hide();
    const { wall } = this.ctx;
    // On a wall, hosts in trouble come first: the first page is where eyes go.
    this.servers = wall ? troubleFirst(filteredFleet(this.ctx)) : filteredFleet(this.ctx);
    if (wall) {
      const grid = wallGrid(this.servers.length, width, height, MIN_WALL_CARD_WIDTH, WALL_CARD_HEIGHT);
      this.columns = grid.columns;
      this.pages = paginate(
        this.servers.map(() => grid.cardHeight),
        this.columns,
        height,
      );
    } else {
      this.columns = columnsFor(width);
      this.pages = paginate(this.servers.map(cardHeight), this.columns, height);
    }
    const selected = this.selectedIndex();
    this.current = pageOf(this.pages, selected);
    this.placeCards(width, selected);
    this.showEmptyMessage();
  }

  show(): void {
    this.visible = true;
    this.ctx.markDirty(this);
  }

  hide(): void {
    this.visible = false;
    for (const card of [...this.cards, ...this.wallCards]) card.hide();
    this.empty.hide();
    this.routePane.hide();
  }

  position(): { page: number; pages: number } {
    return { page: this.current, pages: this.pages.length };
  }

  status(): string {
    const total = this.ctx.source.list().length;
    const count =
      this.ctx.state.filters.fleet === ''
        ? `${total} server${total === 1 ? '' : 's'}`
        : `${this.servers.length} of ${total} match`;
    return this.pages.length > 1 ? `${count}  page ${this.current + 1}/${this.pages.length}` : count;
  }

  context(): 'fleet' {
    return 'fleet';
  }

  breadcrumb(): string {
    return 'Fleet';
  }

  /** The selected card's server. */
  selectedServer(): string | undefined {
    return this.ctx.state.selectedId;
  }

  /** Enter: the selected server in detail. */
  open(): ViewName | undefined {
    return this.ctx.state.selectedId === undefined ? undefined : 'server';
  }

  back(): boolean {
    return false;
  }

  /** Arrows move within the grid; down from the last full row lands on the last card. */
  move(dx: number, dy: number): void {
    const target = this.selectedIndex() + dx + dy * this.columns;
    const lastRow = Math.floor((this.servers.length - 1) / this.columns);
    if (dy > 0 && Math.floor(target / this.columns) > lastRow) return;
    this.select(target);
  }

  page(delta: number): void {
    const target = Math.min(Math.max(this.current + delta, 0), this.pages.length - 1);
    this.select(this.pages[target]?.first ?? 0);
  }

  edge(which: 'first' | 'last'): void {
    this.select(which === 'first' ? 0 : this.servers.length - 1);
  }

  private select(index: number): void {
    const clamped = Math.min(Math.max(index, 0), this.servers.length - 1);
    this.ctx.state.selectedId = this.servers[clamped]?.server.id;
    this.ctx.markDirty(this);
  }

  /** The selected card's index; a selection the filter hid falls back to the first card. */
  private selectedIndex(): number {
    const index = this.servers.findIndex((fs) => fs.server.id === this.ctx.state.selectedId);
    if (index >= 0) return index;
    this.ctx.state.selectedId = this.servers[0]?.server.id;
    return 0;
  }

  private placeCards(width: number, selected: number): void {
    const page = this.pages[this.current]!;
    const cardWidth = Math.floor(width / this.columns);
    const now = this.ctx.now();
    let used = 0;
    for (const row of page.rows) {
      for (let i = row.first; i < row.end; i++) {
        const column = i - row.first;
        const left = column * cardWidth;
        const rect = {
          left,
          top: row.top,
          width: column === this.columns - 1 ? width - left : cardWidth,
          height: row.height,
        };
        if (this.ctx.wall) this.wallCard(used).show(this.servers[i]!, rect, now);
        else this.card(used).show(this.servers[i]!, rect, i === selected, now);
        used++;
      }
    }
    for (const card of (this.ctx.wall ? this.wallCards : this.cards).slice(used)) card.hide();
  }

  /** The pool's card `n`, made the first time a page holds that many. */
  private card(n: number): ServerCard {
    const card = this.cards[n] ?? new ServerCard(this.ctx.parent, this.look);
    this.cards[n] = card;
    return card;
  }

  private wallCard(n: number): WallCard {
    const card = this.wallCards[n] ?? new WallCard(this.ctx.parent, this.look);
    this.wallCards[n] = card;
    return card;
  }

  private showEmptyMessage(): void {
    if (this.servers.length > 0) {
      this.empty.hide();
      return;
    }
    const filter = this.ctx.state.filters.fleet;
    const text =
      filter === ''
        ? 'No servers yet: agents appear here as soon as they connect.'
        : `No server matches "${escapeTags(filter)}". Esc clears the filter.`;
    this.empty.setContent(paint(this.ctx.theme.muted, text));
    this.empty.show();
  }
}

/** The fleet grid's keys. */
export const FLEET_KEYS: readonly BindingSpec[] = [
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'select the server below',
    when: ['fleet'],
    action: (a) => a.move(0, 1),
  },
  {
    name: 'up',
    keys: ['k', 'up'],
    description: 'select the server above',
    when: ['fleet'],
    action: (a) => a.move(0, -1),
  },
  {
    name: 'right',
    keys: ['l', 'right'],
    description: 'select the next server',
    when: ['fleet'],
    action: (a) => a.move(1, 0),
  },
  {
    name: 'left',
    keys: ['h', 'left'],
    description: 'select the previous server',
    when: ['fleet'],
    action: (a) => a.move(-1, 0),
  },
  {
    name: 'first',
    keys: ['g', 'home'],
    description: 'select the first server',
    when: ['fleet'],
    action: (a) => a.edge('first'),
  },
  {
    name: 'last',
    keys: ['S-g', 'end'],
    description: 'select the last server',
    when: ['fleet'],
    action: (a) => a.edge('last'),
  },
  {
    name: 'page-down',
    keys: ['pagedown'],
    description: 'next page of servers',
    when: ['fleet'],
    hint: 'page',
    action: (a) => a.page(1),
  },
  {
    name: 'page-up',
    keys: ['pageup'],
    description: 'previous page of servers',
    when: ['fleet'],
    action: (a) => a.page(-1),
  },
  {
    name: 'open',
    keys: ['enter'],
    description: 'open the selected server',
    when: ['fleet'],
    hint: 'open',
    action: (a) => a.open(),
  },
  {
    name: 'filter',
    keys: ['/'],
    description: 'filter by name, hostname or label (gpu=a100)',
    when: ['fleet'],
    hint: 'filter',
    action: (a) => a.startFilter(),
  },
  {
    name: 'clear-filter',
    keys: ['escape'],
    description: 'clear the filter',
    when: ['fleet'],
    action: (a) => a.clearFilter(),
  },
];
