import blessed from 'blessed';
import type { FleetSource } from '../../core/fleet.js';
import { BackendHealth } from '../../core/route.js';
import { migrationDone, WorkloadState } from '../../core/workload.js';
import type { Look } from '../render/look.js';
import { summaryHeight, WallSummary, type Tile } from '../widgets/wall-summary.js';
import type { View, ViewContext } from './view.js';

/** The summary takes at most this share of the rows; the table keeps the rest. */
const SUMMARY_SHARE = 0.4;

/**
 * A table view as a wall shows it: its headline counts in big digits across the top, the table
 * (without a cursor: a wall shows no selection) in the rows left. The view inside draws into an
 * area of its own below the summary, so it needs no wall-specific layout.
 */
export class WallPage implements View {
  readonly name: View['name'];
  private readonly summary: WallSummary;
  private readonly area: blessed.Widgets.BoxElement;
  private readonly inner: View;
  private readonly look: Look;
  private summaryRows = 0;

  constructor(
    private readonly ctx: ViewContext,
    private readonly tiles: (source: FleetSource) => Tile[],
    create: (ctx: ViewContext) => View,
  ) {
    this.look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.summary = new WallSummary(ctx.parent, this.look);
    this.area = blessed.box({ parent: ctx.parent, hidden: true, left: 0, right: 0, bottom: 0 });
    this.inner = create({
      ...ctx,
      parent: this.area,
      size: () => {
        const { width, height } = ctx.size();
        return { width, height: Math.max(0, height - this.summaryRows) };
      },
      markDirty: () => ctx.markDirty(this),
    });
    this.name = this.inner.name;
  }

  update(): void {
    const { width, height } = this.ctx.size();
    const tiles = this.tiles(this.ctx.source);
    this.summaryRows = Math.min(
      summaryHeight(tiles, width, Math.floor(height * SUMMARY_SHARE), this.look),
      Math.floor(height * SUMMARY_SHARE),
    );
    this.summary.show(tiles, { left: 0, top: 0, width, height: this.summaryRows });
    this.area.top = this.summaryRows;
    this.inner.update();
  }

  show(): void {
    this.area.show();
    this.inner.show();
    this.ctx.markDirty(this);
  }

  hide(): void {
    this.inner.hide();
    this.summary.hide();
    this.area.hide();
  }

  context() {
    return this.inner.context();
  }

  status(): string {
    return this.inner.status();
  }

  breadcrumb(): string {
    return this.inner.breadcrumb();
  }

  position(): { page: number; pages: number } {
    return this.inner.position?.() ?? { page: 0, pages: 1 };
  }

  page(delta: number): void {
    this.inner.page(delta);
  }

  move(): void {}

  edge(): void {}

  open(): undefined {
    return undefined;
  }

  back(): boolean {
    return false;
  }
}

/** The Workloads page's headline: what runs, what keeps restarting or has exited, what moves. */
export function workloadTiles(source: FleetSource): Tile[] {
  const workloads = source.workloads();
  const inState = (state: WorkloadState) => workloads.filter((w) => w.state === state).length;
  const restarting = inState(WorkloadState.WORKLOAD_STATE_BACKOFF);
  return [
    { caption: 'RUNNING', value: inState(WorkloadState.WORKLOAD_STATE_RUNNING) },
    { caption: 'RESTARTING', value: restarting, alarm: restarting > 0 },
    { caption: 'EXITED', value: inState(WorkloadState.WORKLOAD_STATE_EXITED) },
    { caption: 'MIGRATING', value: source.migrations().filter((m) => !migrationDone(m.phase)).length },
  ];
}

/** The Routes page's headline: services, healthy and failing backends, open connections. */
export function routeTiles(source: FleetSource): Tile[] {
  const routes = source.routes().map((r) => r.status);
  const endpoints = routes.flatMap((r) => r.endpoints);
  const failing =
    endpoints.filter((e) => e.stats?.health === BackendHealth.BACKEND_HEALTH_UNHEALTHY).length +
    routes.filter((r) => r.error !== '').length;
  return [
    { caption: 'SERVICES', value: routes.length },
    {
      caption: 'HEALTHY',
      value: endpoints.filter((e) => e.stats?.health === BackendHealth.BACKEND_HEALTH_HEALTHY).length,
    },
    { caption: 'FAILING', value: failing, alarm: failing > 0 },
    { caption: 'CONNECTIONS', value: routes.reduce((n, r) => n + r.active, 0) },
  ];
}
