import type { BindingSpec } from '../keymap.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { clock } from '../widgets/header.js';
import { Table } from '../widgets/table.js';
import { EventLog, type FleetEvent } from './event-log.js';
import { ListCursor } from './list-cursor.js';
import { ListView } from './list-view.js';
import type { ViewContext, ViewName } from './view.js';

/**
 * What happens in the fleet as it happens, newest first: servers changing state, workloads
 * starting and exiting (with their exit code), migrations starting and ending, route changes
 * and the controller's audit entries. Kept from the dashboard's start, at most EVENTS_KEPT.
 */
export class EventsView extends ListView<FleetEvent> {
  readonly name = 'events' as const;
  private readonly log: EventLog;
  private readonly table: Table<FleetEvent>;
  private readonly columns: Column<FleetEvent>[];

  constructor(ctx: ViewContext, log = new EventLog(ctx.source, ctx.now)) {
    let selected: string | undefined;
    super(
      ctx,
      new ListCursor(
        (e) => String(e.seq),
        () => selected,
        (seq) => {
          selected = seq;
        },
      ),
    );
    this.log = log;
    ctx.observe((change) => {
      const before = this.log.total;
      this.log.observe(change);
      if (this.log.total !== before) ctx.markDirty(this);
    });
    const look: Look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.table = new Table(ctx.parent, look);
    const alarm = (e: FleetEvent) => (e.alarm ? ctx.theme.levels.crit : 'none');
    this.columns = [
      { title: 'TIME', width: 8, priority: 1, cell: (e) => clock(e.atMs), colour: () => ctx.theme.muted },
      { title: 'KIND', width: 10, priority: 2, cell: (e) => e.kind },
      { title: 'SUBJECT', width: 18, flex: 1, priority: 1, cell: (e) => e.subject },
      { title: 'WHAT', width: 24, flex: 2, priority: 1, cell: (e) => e.text, colour: alarm },
    ];
  }

  protected current(): readonly FleetEvent[] {
    return this.matching(this.log.list(), (e) => ({ names: [e.kind, e.subject, e.text], labels: {} }));
  }

  protected draw(width: number, height: number): void {
    const none =
      'No events since the dashboard started: state changes, exits, migrations, route changes and audit entries show here as they happen.';
    this.table.show(
      { left: 0, top: 0, width, height },
      this.tableData(`Events (${this.rows.length}, newest first)`, this.columns, none, 'event'),
    );
  }

  protected clear(): void {
    this.table.hide();
  }

  status(): string {
    const kept = this.log.list().length;
    if (this.filter() !== '') return `${this.rows.length} of ${kept} match`;
    const dropped = this.log.total - kept;
    return dropped > 0 ? `${kept} kept, ${dropped} older dropped` : `${kept} event${kept === 1 ? '' : 's'}`;
  }

  breadcrumb(): string {
    return 'Events';
  }

  /** Enter: the server the selected event happened on, if it is still in the fleet. */
  open(): ViewName | undefined {
    const id = this.cursor.selected(this.rows)?.serverId;
    if (id === undefined || !this.ctx.source.get(id)) return undefined;
    this.ctx.state.selectedId = id;
    return 'server';
  }
}

/** The Events view's own keys; the list's (g/G, PgUp/PgDn, /) do the rest. */
export const EVENTS_KEYS: readonly BindingSpec[] = [
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'select the older event below',
    when: ['events'],
    action: (a) => a.move(0, 1),
  },
  {
    name: 'up',
    keys: ['k', 'up'],
    description: 'select the newer event above',
    when: ['events'],
    action: (a) => a.move(0, -1),
  },
  {
    name: 'open',
    keys: ['enter'],
    description: 'open the server the selected event happened on',
    when: ['events'],
    hint: 'server',
    action: (a) => a.open(),
  },
];
