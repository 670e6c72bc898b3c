import type blessed from 'blessed';
import type { FleetSource } from '../core/fleet.js';
import { migrationDone, WorkloadState } from '../core/workload.js';
import { filterProblem } from './filter.js';
import { isSilent } from './freshness.js';
import { bindingText, refusal, roleRefusal, type KeyContext, type Keymap, type Restrictions } from './keymap.js';
import { gpuCount } from './render/gpus.js';
import type { Look } from './render/look.js';
import type { Part } from './scheduler.js';
import type { View } from './views/view.js';
import { Banner } from './widgets/banner.js';
import { Footer } from './widgets/footer.js';
import { Header } from './widgets/header.js';
import { TooSmall } from './widgets/too-small.js';

/** Below this the layout cannot hold one card; a message says so instead. */
const MIN_SIZE = { cols: 60, rows: 15 } as const;

/** What the chrome reads from the dashboard at each frame. */
export interface ChromeState {
  view(): View;
  context(): KeyContext;
  filter(): string;
  prompt(): string | undefined;
  notice(): string | undefined;
  /** What the footer always shows first: "read-only", the wall's next turn. */
  tag(): string | undefined;
  disconnectedSince(): number | undefined;
  now(): number;
}

/** The header names a role that cannot change the fleet, so greyed-out keys have their reason in sight. */
function roleTag(source: FleetSource): string | undefined {
  return source.role === 'viewer' ? 'viewer' : undefined;
}

/** How the chrome shows this dashboard: its keys and what it refuses. */
export interface ChromeSetup {
  title: string;
  keymap: Keymap;
  limits: Restrictions;
}

/**
 * Everything around the view: header, the unreachable banner, footer, and the too-small
 * guard. The banner takes a line from the view area while it shows.
 */
export class Chrome implements Part {
  private readonly header: Header;
  private readonly banner: Banner;
  private readonly footer: Footer;
  private readonly tooSmall: TooSmall;

  constructor(
    private readonly screen: blessed.Widgets.Screen,
    private readonly content: blessed.Widgets.BoxElement,
    private readonly source: FleetSource,
    private readonly setup: ChromeSetup,
    private readonly state: ChromeState,
    look: Look,
  ) {
    this.header = new Header(screen, look);
    this.banner = new Banner(screen, look);
    this.footer = new Footer(screen, look);
    // Created last so it lies on top of everything, help included.
    this.tooSmall = new TooSmall(screen, look);
  }

  /** Rows the chrome takes from the screen: header and footer, and the banner while it shows. */
  rows(): number {
    return this.state.disconnectedSince() === undefined ? 2 : 3;
  }

  update(): void {
    const width = Number(this.screen.width);
    const height = Number(this.screen.height);
    const parts = [this.header, this.footer, this.content];
    if (width < MIN_SIZE.cols || height < MIN_SIZE.rows) {
      for (const part of parts) part.hide();
      this.banner.hide();
      this.tooSmall.show(MIN_SIZE, { cols: width, rows: height });
      return;
    }
    this.tooSmall.hide();
    for (const part of parts) part.show();
    const since = this.state.disconnectedSince();
    if (since === undefined) this.banner.hide();
    else this.banner.show(since, this.state.now());
    this.content.top = this.rows() - 1;
    const list = this.source.list();
    const workloads = this.source.workloads();
    const view = this.state.view();
    const { limits, keymap } = this.setup;
    this.header.update(
      {
        title: this.setup.title,
        breadcrumb: view.breadcrumb(),
        controllerAddress: this.source.controllerAddress,
        mode: this.source.mode,
        restriction: limits.wall ? 'wall' : limits.readonly ? 'read-only' : roleTag(this.source),
        // The controller's word on who is up (heartbeats on time); without it, nobody is known to be.
        online:
          this.state.disconnectedSince() === undefined ? list.filter((fs) => !isSilent(fs.server)).length : undefined,
        total: list.length,
        gpus: list.reduce((n, fs) => n + gpuCount(fs), 0),
        workloadsRunning: workloads.filter((w) => w.state === WorkloadState.WORKLOAD_STATE_RUNNING).length,
        workloadsTotal: workloads.length,
        migrating: this.source.migrations().filter((m) => !migrationDone(m.phase)).length,
        now: this.state.now(),
      },
      width,
    );
    const context = this.state.context();
    const filter = this.state.filter();
    const hints = keymap.filter((b) => b.hint !== undefined && b.when.includes(context) && !refusal(b, limits));
    const { role } = this.source;
    this.footer.update(
      {
        hints,
        off: new Set(hints.filter((b) => roleRefusal(b, bindingText(b), role) !== undefined)),
        filter,
        filterProblem: filterProblem(filter),
        prompt: this.state.prompt(),
        notice: this.state.notice(),
        status: view.status(),
        tag: this.state.tag(),
      },
      width,
    );
  }
}
