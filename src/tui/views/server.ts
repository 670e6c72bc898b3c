import blessed from 'blessed';
import type { FleetServer } from '../../core/fleet.js';
import type { Server } from '../../core/types.js';
import { isStale } from '../freshness.js';
import { gpuCount, gpusOf } from '../render/gpus.js';
import type { Look } from '../render/look.js';
import { paint } from '../render/paint.js';
import { CoreBars, coresHeight } from '../widgets/core-bars.js';
import { DisksTable, disksHeight } from '../widgets/disks-table.js';
import { HostInfo, hostInfoHeight } from '../widgets/host-info.js';
import { LineChart, type ChartData } from '../widgets/line-chart.js';
import type { Rect } from '../widgets/rect.js';
import { filteredFleet } from './fleet.js';
import { cpuChart, gpuChart, memoryChart, networkChart } from './server-charts.js';
import { layoutPanes, paneWidth, type PaneHeight } from './server-layout.js';
import { gpuProcessesTable, gpuUsersTable } from './server-gpu-tables.js';
import { ServerWorkloads } from './server-workloads.js';
import type { BindingSpec } from '../keymap.js';
import { onView, type View, type ViewContext, type ViewName } from './view.js';

/** One pane of the page: how tall it wants to be and how to draw it into its place. */
interface Pane {
  height: PaneHeight;
  widget: { hide(): void };
  draw(rect: Rect): void;
}

/** One server in detail, panes in priority order, paged when the terminal is small. */
export class ServerView implements View {
  readonly name = 'server' as const;
  private readonly look: Look;
  private readonly info: HostInfo;
  private readonly disks: DisksTable;
  private readonly cores: CoreBars;
  /** Tab moves the keys between paging the panes and choosing in this pane. */
  private readonly workloads: ServerWorkloads;
  private readonly gpuProcesses: ReturnType<typeof gpuProcessesTable>;
  private readonly gpuUsers: ReturnType<typeof gpuUsersTable>;
  /** The page the workloads pane was on at the last frame. */
  private workloadsPage = 0;
  /** Charts by pane key ("cpu", "gpu0"), kept across frames. */
  private readonly charts = new Map<string, LineChart>();
  private readonly missing: blessed.Widgets.BoxElement;
  private current = 0;
  private pageCount = 1;
  /** A hidden view ignores frames it was marked dirty for before it was hidden. */
  private visible = false;

  constructor(private readonly ctx: ViewContext) {
    this.look = { theme: ctx.theme, glyphs: ctx.glyphs };
    this.info = new HostInfo(ctx.parent, this.look);
    this.disks = new DisksTable(ctx.parent, this.look);
    this.cores = new CoreBars(ctx.parent, this.look);
    this.workloads = new ServerWorkloads(ctx, this.look);
    this.gpuProcesses = gpuProcessesTable(ctx, this.look);
    this.gpuUsers = gpuUsersTable(ctx, this.look);
    this.missing = blessed.box({
      parent: ctx.parent,
      hidden: true,
      top: 'center',
      left: 'center',
      width: '80%',
      height: 3,
      align: 'center',
      tags: true,
    });
  }

  update(): void {
    if (!this.visible) return;
    const id = this.ctx.state.selectedId;
    const fs = id === undefined ? undefined : this.ctx.source.get(id);
    if (!fs) {
      this.hideAll();
      this.missing.setContent(paint(this.ctx.theme.muted, 'This server is no longer in the fleet. Esc goes back.'));
      this.missing.show();
      return;
    }
    const { width, height } = this.ctx.size();
    const panes = this.panes(fs);
    const pages = layoutPanes(
      panes.map((p) => p.height),
      width,
      height,
    );
    this.pageCount = pages.length;
    this.workloadsPage = Math.max(
      0,
      pages.findIndex((page) => page.some((p) => panes[p.pane]!.widget === this.workloads)),
    );
    if (this.workloads.focused) this.current = this.workloadsPage;
    this.current = Math.min(this.current, this.pageCount - 1);
    const drawn = new Set<{ hide(): void }>();
    for (const { pane, rect } of pages[this.current]!) {
      panes[pane]!.draw(rect);
      drawn.add(panes[pane]!.widget);
    }
    // Hide only what this page does not show, so nothing flickers between frames.
    for (const widget of this.widgets()) if (!drawn.has(widget)) widget.hide();
    this.missing.hide();
  }

  show(): void {
    this.visible = true;
    this.current = 0;
    this.workloads.focused = false;
    this.ctx.markDirty(this);
  }

  hide(): void {
    this.visible = false;
    this.hideAll();
  }

  context(): 'server' | 'server-workloads' {
    return this.workloads.focused ? 'server-workloads' : 'server';
  }

  status(): string {
    return this.pageCount > 1 ? `page ${this.current + 1}/${this.pageCount}` : '';
  }

  /** From the selection itself, not from the last update: the header may be drawn before this view in a frame. */
  breadcrumb(): string {
    const id = this.ctx.state.selectedId;
    const fs = id === undefined ? undefined : this.ctx.source.get(id);
    return fs ? `Fleet ${this.ctx.glyphs.crumb} ${fs.server.name}` : 'Fleet';
  }

  /**
   * Left and right step through the (filtered) fleet without going back to the grid; up and
   * down choose a workload while the workloads pane has focus.
   */
  move(dx: number, dy: number): void {
    if (dy !== 0) {
      this.workloads.move(dy);
      this.ctx.markDirty(this);
      return;
    }
    const list = filteredFleet(this.ctx);
    const index = list.findIndex((fs) => fs.server.id === this.ctx.state.selectedId);
    const next = list[Math.min(Math.max(index + dx, 0), list.length - 1)];
    if (next) this.ctx.state.selectedId = next.server.id;
    this.current = 0;
    this.ctx.markDirty(this);
  }

  page(delta: number): void {
    this.current = Math.min(Math.max(this.current + delta, 0), this.pageCount - 1);
    this.ctx.markDirty(this);
  }

  edge(which: 'first' | 'last'): void {
    this.current = which === 'first' ? 0 : this.pageCount - 1;
    this.ctx.markDirty(this);
  }

  open(): ViewName | undefined {
    return undefined;
  }

  /** Esc leaves the workloads pane first, then the view. */
  back(): boolean {
    if (!this.workloads.focused) return false;
    this.focusNext();
    return true;
  }

  focusNext(): void {
    this.workloads.focused = !this.workloads.focused;
    if (this.workloads.focused) this.current = this.workloadsPage;
    this.ctx.markDirty(this);
  }

  selectedWorkload(): string | undefined {
    return this.workloads.selected();
  }

  /** The server shown. */
  selectedServer(): string | undefined {
    return this.ctx.state.selectedId;
  }

  private widgets(): { hide(): void }[] {
    return [
      this.info,
      this.workloads,
      this.gpuProcesses,
      this.gpuUsers,
      this.disks,
      this.cores,
      ...this.charts.values(),
    ];
  }

  private hideAll(): void {
    for (const widget of this.widgets()) widget.hide();
    this.missing.hide();
  }

  private chart(key: string): LineChart {
    let chart = this.charts.get(key);
    if (!chart) {
      chart = new LineChart(this.ctx.parent, this.look);
      this.charts.set(key, chart);
    }
    return chart;
  }

  private chartPane(key: string, data: ChartData): Pane {
    const chart = this.chart(key);
    return { height: 'flex', widget: chart, draw: (rect) => chart.show(rect, data) };
  }

  /** Who holds the host's GPU memory: by process, or by OS user. */
  private gpuPane(table: ServerView['gpuProcesses'] | ServerView['gpuUsers'], server: Server, stale: boolean): Pane {
    return { height: table.height(server), widget: table, draw: (rect) => table.show(rect, server, stale) };
  }

  /** Every pane for this server, most important first: what a small terminal drops last. */
  private panes(fs: FleetServer): Pane[] {
    const now = this.ctx.now();
    const { server } = fs;
    const stale = isStale(server, now);
    const cores = server.latest?.cpuPerCorePct ?? [];
    const disks = server.latest?.disks ?? [];
    return [
      { height: hostInfoHeight(server), widget: this.info, draw: (rect) => this.info.show(rect, server, now) },
      this.chartPane('cpu', cpuChart(fs, this.look, now)),
      { height: this.workloads.height(), widget: this.workloads, draw: (rect) => this.workloads.show(rect) },
      ...(gpuCount(fs) > 0
        ? [this.gpuPane(this.gpuProcesses, server, stale), this.gpuPane(this.gpuUsers, server, stale)]
        : []),
      this.chartPane('memory', memoryChart(fs, this.look, now)),
      this.chartPane('network', networkChart(fs, this.look, now)),
      ...gpusOf(fs).map((gpu) => this.chartPane(`gpu${gpu.index}`, gpuChart(gpu, fs, this.look, now))),
      { height: disksHeight(disks.length), widget: this.disks, draw: (rect) => this.disks.show(rect, disks, stale) },
      {
        height: coresHeight(cores.length, paneWidth(this.ctx.size().width)),
        widget: this.cores,
        draw: (rect) => this.cores.show(rect, cores, stale),
      },
    ];
  }
}

/** One server's keys: paging its panes, stepping through the fleet, Tab into the workloads pane. */
export const SERVER_KEYS: readonly BindingSpec[] = [
  {
    name: 'back',
    keys: ['escape'],
    description: 'back to the view before',
    when: ['server'],
    hint: 'back',
    action: (a) => a.back(),
  },
  {
    name: 'page-down',
    keys: ['pagedown', 'j', 'down'],
    description: 'next page of panes',
    when: ['server'],
    hint: 'more',
    action: (a) => a.page(1),
  },
  {
    name: 'page-up',
    keys: ['pageup', 'k', 'up'],
    description: 'previous page of panes',
    when: ['server'],
    action: (a) => a.page(-1),
  },
  {
    name: 'right',
    keys: ['l', 'right'],
    description: 'show the next server',
    when: ['server', 'server-workloads'],
    hint: 'next',
    action: (a) => a.move(1, 0),
  },
  {
    name: 'left',
    keys: ['h', 'left'],
    description: 'show the previous server',
    when: ['server', 'server-workloads'],
    action: (a) => a.move(-1, 0),
  },
  {
    name: 'next-pane',
    keys: ['tab'],
    description: 'choose in the workloads pane, or go back to paging',
    when: ['server', 'server-workloads'],
    hint: 'workloads',
    action: onView(ServerView, (v) => v.focusNext()),
  },
  // The server's workloads pane, after Tab.
  {
    name: 'back',
    keys: ['escape'],
    description: 'leave the workloads pane',
    when: ['server-workloads'],
    action: (a) => a.back(),
  },
];
