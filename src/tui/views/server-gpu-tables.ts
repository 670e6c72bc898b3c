import { gpuProcessRows, gpuUsers, type GpuProcessRow, type GpuUser } from '../../core/gpu-users.js';
import type { GpuSample, Server } from '../../core/types.js';
import type { Column } from '../render/columns.js';
import type { Look } from '../render/look.js';
import type { Rect } from '../widgets/rect.js';
import { Table, tableHeight } from '../widgets/table.js';
import { gpuProcessColumns, gpuUserColumns } from './gpu-columns.js';
import type { ViewContext } from './view.js';

interface GpuTableSpec<T> {
  title: string;
  /** Rows shown at most (the label counts them all). */
  most: number;
  rows(gpus: readonly GpuSample[]): T[];
  columns: Column<T>[];
  /** Said when the host's GPUs report and the table is empty. */
  empty: string;
}

/** A server view pane built from the host's newest GPU processes; greyed while the host is silent. */
class GpuTable<T> {
  private readonly table: Table<T>;
  private readonly columns: Column<T>[];
  private stale = false;

  constructor(
    ctx: ViewContext,
    look: Look,
    private readonly spec: GpuTableSpec<T>,
  ) {
    this.table = new Table(ctx.parent, look);
    const colour = () => (this.stale ? look.theme.stale : 'none');
    this.columns = spec.columns.map((c) => ({ ...c, colour }));
  }

  height(server: Server): number {
    return tableHeight(this.spec.rows(server.latest?.gpus ?? []).length, this.spec.most);
  }

  show(rect: Rect, server: Server, stale: boolean): void {
    const gpus = server.latest?.gpus ?? [];
    const rows = this.spec.rows(gpus);
    this.stale = stale;
    this.table.show(rect, {
      label: `${this.spec.title} (${rows.length})`,
      columns: this.columns,
      rows,
      selected: -1,
      focused: false,
      empty: gpus.length > 0 ? this.spec.empty : 'no GPU reading yet',
    });
  }

  hide(): void {
    this.table.hide();
  }
}

/** Each process holding memory on one of the host's GPUs (nvitop's process panel). */
export function gpuProcessesTable(ctx: ViewContext, look: Look): GpuTable<GpuProcessRow> {
  return new GpuTable(ctx, look, {
    title: 'GPU processes',
    most: 8,
    rows: gpuProcessRows,
    columns: gpuProcessColumns(look),
    empty: 'no process holds GPU memory',
  });
}

/** GPU memory by OS user across the host's GPUs (all-smi's Users tab). */
export function gpuUsersTable(ctx: ViewContext, look: Look): GpuTable<GpuUser> {
  return new GpuTable(ctx, look, {
    title: 'GPU users',
    most: 4,
    rows: gpuUsers,
    columns: gpuUserColumns(look),
    empty: 'no one holds GPU memory',
  });
}
