import type { KnownWorkload } from '../../core/domain.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import type { Rect } from '../widgets/rect.js';
import { Table, tableHeight } from '../widgets/table.js';
import { ListCursor } from './list-cursor.js';
import type { ViewContext } from './view.js';
import { workloadColumns } from './workload-columns.js';

/** The pane lists this many rows at most (then it scrolls). */
const MOST_ROWS = 6;

/**
 * The server view's workloads pane: what runs on the server on screen. With focus (Tab) it
 * shows a selection that j/k move; without, m takes the first workload.
 */
export class ServerWorkloads {
  focused = false;
  private readonly table: Table<KnownWorkload>;
  private readonly columns: Column<KnownWorkload>[];
  private readonly cursor: ListCursor<KnownWorkload>;

  constructor(
    private readonly ctx: ViewContext,
    look: Look,
  ) {
    this.table = new Table(ctx.parent, look);
    this.columns = workloadColumns({ source: ctx.source, look, now: ctx.now }, false);
    this.cursor = new ListCursor(
      (w) => w.spec.name,
      () => ctx.state.selectedWorkload,
      (name) => {
        ctx.state.selectedWorkload = name;
      },
    );
  }

  height(): number {
    return tableHeight(this.rows().length, MOST_ROWS);
  }

  show(rect: Rect): void {
    const rows = this.rows();
    this.table.show(rect, {
      label: `Workloads (${rows.length})${this.focused || rows.length === 0 ? '' : ' Tab to choose'}`,
      columns: this.columns,
      rows,
      selected: this.focused ? this.cursor.index(rows) : -1,
      focused: this.focused,
      empty: 'no workloads on this server',
    });
  }

  hide(): void {
    this.table.hide();
  }

  move(dy: number): void {
    const rows = this.rows();
    this.cursor.select(rows, this.cursor.index(rows) + dy);
  }

  /** The workload chosen in the pane, or without focus the first on this server. */
  selected(): string | undefined {
    const rows = this.rows();
    return (this.focused ? this.cursor.selected(rows) : rows[0])?.spec.name;
  }

  private rows(): KnownWorkload[] {
    return this.ctx.source.workloads().filter((w) => w.serverId === this.ctx.state.selectedId);
  }
}
