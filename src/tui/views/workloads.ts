import { strategies, workloadStates, type Workload } from '../../core/workload.js';
import { textFilter } from '../filter.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { Table } from '../widgets/table.js';
import { ListCursor } from './list-cursor.js';
import type { View, ViewContext, ViewName } from './view.js';
import { workloadColumns } from './workload-columns.js';

/** The workloads the Workloads view's filter lets through: by name, server, state, strategy, command or label. */
function filteredWorkloads(ctx: ViewContext): readonly Workload[] {
  const all = ctx.source.workloads();
  const text = ctx.state.filters.workloads;
  if (text === '') return all;
  const keep = textFilter(text);
  return all.filter((w) => keep({
    names: [w.spec?.name ?? '', ctx.source.get(w.serverId)?.server.name ?? w.serverId, workloadStates.name(w.state), strategies.name(w.spec?.strategy ?? 0), w.spec?.command ?? ''],
    labels: w.spec?.labels ?? {},
  }));
}

/** Every workload in the fleet, one row each; Enter opens its server, v migrates it, t/s/C-r/C-d tail, stop, restart and remove it. */
export class WorkloadsView implements View {
  readonly name = 'workloads' as const;
  private readonly table: Table<Workload>;
  private readonly columns: Column<Workload>[];
  private readonly cursor: ListCursor<Workload>;
  private rows: readonly Workload[] = [];
  private pageRows = 1;
  private visible = false;

  constructor(private readonly ctx: ViewContext) {
    const look: Look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.table = new Table(ctx.parent, look);
    this.columns = workloadColumns({ source: ctx.source, look, now: ctx.now });
    this.cursor = new ListCursor((w) => w.spec?.name ?? '', () => ctx.state.selectedWorkload, (name) => {
      ctx.state.selectedWorkload = name;
    });
  }

  update(): void {
    if (!this.visible) return;
    const { width, height } = this.ctx.size();
    this.rows = filteredWorkloads(this.ctx);
    this.pageRows = Math.max(1, height - 3);
    const filter = this.ctx.state.filters.workloads;
    this.table.show({ left: 0, top: 0, width, height }, {
      label: `Workloads (${this.rows.length})`,
      columns: this.columns,
      rows: this.rows,
      // A wall shows no selection.
      selected: this.ctx.wall ? -1 : this.cursor.index(this.rows),
      focused: !this.ctx.wall,
      empty: filter === '' ? 'No workloads yet: yard run starts one on a server.' : `No workload matches "${filter}". Esc clears the filter.`,
    });
  }

  show(): void {
    this.visible = true;
    this.ctx.markDirty(this);
  }

  hide(): void {
    this.visible = false;
    this.table.hide();
  }

  context(): 'workloads' {
    return 'workloads';
  }

  status(): string {
    const total = this.ctx.source.workloads().length;
    const running = this.ctx.source.workloads().filter((w) => workloadStates.name(w.state) === 'running').length;
    return this.ctx.state.filters.workloads === '' ? `${running} of ${total} running` : `${this.rows.length} of ${total} match`;
  }

  breadcrumb(): string {
    return 'Workloads';
  }

  move(_dx: number, dy: number): void {
    this.select(this.cursor.index(this.rows) + dy);
  }

  page(delta: number): void {
    this.select(this.cursor.index(this.rows) + delta * this.pageRows);
  }

  edge(which: 'first' | 'last'): void {
    this.select(which === 'first' ? 0 : this.rows.length - 1);
  }

  /** Enter: the server the selected workload runs on. */
  open(): ViewName | undefined {
    const w = this.cursor.selected(this.rows);
    if (!w) return undefined;
    this.ctx.state.selectedId = w.serverId;
    return 'server';
  }

  back(): boolean {
    return false;
  }

  selectedWorkload(): string | undefined {
    return this.cursor.selected(filteredWorkloads(this.ctx))?.spec?.name;
  }

  private select(index: number): void {
    this.cursor.select(this.rows, index);
    this.ctx.markDirty(this);
  }
}
