import type { KnownWorkload } from '../../core/domain.js';
import { strategies, workloadStates } from '../../core/workload.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { Table } from '../widgets/table.js';
import { ListCursor } from './list-cursor.js';
import { ListView } from './list-view.js';
import type { BindingSpec } from '../keymap.js';
import type { ViewContext, ViewName } from './view.js';
import { workloadColumns } from './workload-columns.js';

/** Every workload in the fleet, one row each; Enter opens its server, v migrates it, t/s/C-r/C-d tail, stop, restart and remove it. */
export class WorkloadsView extends ListView<KnownWorkload> {
  readonly name = 'workloads' as const;
  private readonly table: Table<KnownWorkload>;
  private readonly columns: Column<KnownWorkload>[];

  constructor(ctx: ViewContext) {
    super(
      ctx,
      new ListCursor(
        (w) => w.spec.name,
        () => ctx.state.selectedWorkload,
        (name) => {
          ctx.state.selectedWorkload = name;
        },
      ),
    );
    const look: Look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.table = new Table(ctx.parent, look);
    this.columns = workloadColumns({ source: ctx.source, look, now: ctx.now });
  }

  /** By name, server, state, strategy, command or label. */
  protected current(): readonly KnownWorkload[] {
    const { source } = this.ctx;
    return this.matching(source.workloads(), (w) => ({
      names: [
        w.spec.name,
        source.get(w.serverId)?.server.name ?? w.serverId,
        workloadStates.name(w.state),
        strategies.name(w.spec.strategy),
        w.spec.command,
      ],
      labels: w.spec.labels,
    }));
  }

  protected draw(width: number, height: number): void {
    this.table.show(
      { left: 0, top: 0, width, height },
      this.tableData(
        `Workloads (${this.rows.length})`,
        this.columns,
        'No workloads yet: yard run starts one on a server.',
        'workload',
      ),
    );
  }

  protected clear(): void {
    this.table.hide();
  }

  status(): string {
    const total = this.ctx.source.workloads().length;
    const running = this.ctx.source.workloads().filter((w) => workloadStates.name(w.state) === 'running').length;
    return this.filter() === '' ? `${running} of ${total} running` : `${this.rows.length} of ${total} match`;
  }

  breadcrumb(): string {
    return 'Workloads';
  }

  /** Enter: the server the selected workload runs on. */
  open(): ViewName | undefined {
    const w = this.cursor.selected(this.rows);
    if (!w) return undefined;
    this.ctx.state.selectedId = w.serverId;
    return 'server';
  }

  selectedWorkload(): string | undefined {
    return this.selectedRow()?.spec.name;
  }
}

/** The Workloads view's own key; the workload keys (views/index.ts) and the list's do the rest. */
export const WORKLOADS_KEYS: readonly BindingSpec[] = [
  {
    name: 'open',
    keys: ['enter'],
    description: 'open the server the selected workload runs on',
    when: ['workloads'],
    hint: 'server',
    action: (a) => a.open(),
  },
];
