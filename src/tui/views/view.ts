import type { EndpointState } from '../../core/domain.js';
import type blessed from 'blessed';
import type { FleetChange, FleetRoute, FleetSource } from '../../core/fleet.js';
import type { Glyphs } from '../glyphs.js';
import type { KeyActions, KeyContext } from '../keymap.js';
import type { InputPrompt } from '../route-keys.js';
import type { Part } from '../scheduler.js';
import type { Theme } from '../theme.js';
import type { LogFollow } from '../widgets/logs-pane.js';
import type { ViewName } from './index.js';

export type { ViewName };

/** What the views share: selections survive switching views and refreshes. */
export interface UiState {
  /** The selected server's id. */
  selectedId: string | undefined;
  /** The selected workload's name. */
  selectedWorkload: string | undefined;
  /** The selected migration's id. */
  selectedMigration: string | undefined;
  /** The selected row of the Routes view: a service, or one of its endpoints. */
  selectedRoute: string | undefined;
  /** The selected row of the Deployments view: a deployment (d:NAME) or a replica (r:WORKLOAD). */
  selectedDeployment: string | undefined;
  /** The `/` filter in force in each view ("" for none). */
  filters: Record<ViewName, string>;
}

/** What the route keys act on: a service, and one of its endpoints when a backend's row is selected. */
export interface RouteSelection {
  route: FleetRoute;
  endpoint?: EndpointState;
}

export interface ViewContext {
  readonly screen: blessed.Widgets.Screen;
  /** The area between header and footer; views put their widgets in it. */
  readonly parent: blessed.Widgets.BoxElement;
  readonly source: FleetSource;
  readonly theme: Theme;
  readonly glyphs: Glyphs;
  readonly state: UiState;
  /** A wall display: big cards, no selection shown. */
  readonly wall: boolean;
  /** Size of `parent` in cells. */
  size(): { width: number; height: number };
  now(): number;
  markDirty(part: Part): void;
  /** Hears every change of the source while the dashboard runs (its one subscription). */
  observe(listener: (change: FleetChange) => void): void;
}

/** A full-area view. Its update() is called by the scheduler only, after markDirty(view). */
export interface View extends Part {
  readonly name: ViewName;
  show(): void;
  hide(): void;
  /** Where keys go while this view is in front: its name, or a part of it that has focus. */
  context(): KeyContext;
  /** Where we are, for the footer: "page 2/5", "12 of 1000". */
  status(): string;
  /** For the header: "Fleet", "Fleet › gpu-node-01". */
  breadcrumb(): string;
  move(dx: number, dy: number): void;
  page(delta: number): void;
  edge(which: 'first' | 'last'): void;
  /** Enter: the view to open next, if any (a view may act in place and return nothing). */
  open(): ViewName | undefined;
  /** Esc: true when the view stepped back within itself (closed details, left a pane). */
  back(): boolean;
  /** Which page of how many is on screen, for a view that pages (a wall turns its pages). */
  position?(): { page: number; pages: number };
}

/** What a view's keys may do beyond the view itself: ask, prompt, report in the footer, open the logs or the wizard. */
export interface ViewUi {
  readonly source: FleetSource;
  /** A yes/no question; `onYes` runs on y. */
  ask(text: string, onYes: () => void): void;
  /** Opens a prompt in the footer. */
  input(prompt: InputPrompt): void;
  /** A line for the footer. */
  notify(text: string): void;
  /** Runs an action and reports how it ended in the footer. */
  report<T>(action: () => Promise<T>, ok: (value: T) => string): void;
  /** Opens the logs pane on a stream. */
  openLogs(title: string, follow: LogFollow): void;
  /** Opens the migration wizard for `workload` (by name), or with a list to pick one from. */
  openWizard(workload: string | undefined): void;
}

/**
 * A key's action on one kind of view, declared beside it. It does nothing while another kind
 * is in front (a wall's page, which takes no such key).
 */
export function onView<V extends View>(
  kind: abstract new (...args: never[]) => V,
  act: (view: V, ui: ViewUi) => void,
): (a: KeyActions) => void {
  return (a) => {
    if (a.view instanceof kind) act(a.view, a.ui);
  };
}
