import type blessed from 'blessed';
import type { FleetSource } from '../core/fleet.js';
import { migrationDone, WorkloadState } from '../core/workload.js';
import { isSilent } from './freshness.js';
import { KEYMAP, type KeyContext } from './keymap.js';
import { gpuCount } from './render/gpus.js';
import type { Look } from './render/look.js';
import type { Part } from './scheduler.js';
import type { View } from './views/view.js';
import { Footer } from './widgets/footer.js';
import { Header } from './widgets/header.js';
import { TooSmall } from './widgets/too-small.js';

/** Below this the layout cannot hold one card; a message says so instead. */
export const MIN_SIZE = { cols: 60, rows: 15 } as const;

/** What the chrome reads from the dashboard at each frame. */
export interface ChromeState {
  view(): View;
  context(): KeyContext;
  filter(): string;
  prompt(): string | undefined;
  notice(): string | undefined;
  disconnectedSince(): number | undefined;
  now(): number;
}

/** Everything around the view: header, footer, and the too-small guard. */
export class Chrome implements Part {
  private readonly header: Header;
  private readonly footer: Footer;
  private readonly tooSmall: TooSmall;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly content: blessed.Widgets.BoxElement,
    private readonly source: FleetSource,
    private readonly title: string,
    private readonly state: ChromeState,
    look: Look,
  ) {
    this.header = new Header(screen, look);
    this.footer = new Footer(screen, look);
    // Created last so it lies on top of everything, help included.
    this.tooSmall = new TooSmall(screen, look);
  }

  update(): void {
    const width = Number(this.screen.width);
    const height = Number(this.screen.height);
    const parts = [this.header, this.footer, this.content];
    if (width < MIN_SIZE.cols || height < MIN_SIZE.rows) {
      for (const part of parts) part.hide();
      this.tooSmall.show(MIN_SIZE, { cols: width, rows: height });
      return;
    }
    this.tooSmall.hide();
    for (const part of parts) part.show();
    const list = this.source.list();
    const workloads = this.source.workloads();
    const view = this.state.view();
    this.header.update({
      title: this.title,
      breadcrumb: view.breadcrumb(),
      controllerAddress: this.source.controllerAddress,
      mode: this.source.mode,
      online: list.filter((fs) => !isSilent(fs.server)).length,
      total: list.length,
      gpus: list.reduce((n, fs) => n + gpuCount(fs), 0),
      workloadsRunning: workloads.filter((w) => w.state === WorkloadState.WORKLOAD_STATE_RUNNING).length,
      workloadsTotal: workloads.length,
      migrating: this.source.migrations().filter((m) => !migrationDone(m.phase)).length,
      now: this.state.now(),
      disconnectedSince: this.state.disconnectedSince(),
    }, width);
    const context = this.state.context();
    this.footer.update({
      hints: KEYMAP.filter((b) => b.hint !== undefined && b.when.includes(context)),
      filter: this.state.filter(),
      prompt: this.state.prompt(),
      notice: this.state.notice(),
      status: view.status(),
    }, width);
  }
}
