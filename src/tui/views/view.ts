import type blessed from 'blessed';
import type { FleetSource } from '../../core/fleet.js';
import type { Glyphs } from '../glyphs.js';
import type { Part } from '../scheduler.js';
import type { Theme } from '../theme.js';

/** Every view, by the name the registry (views/index.ts) lists it under. */
export type ViewName = 'fleet' | 'server';

/** What the views share: the selected server survives switching views and refreshes. */
export interface UiState {
  selectedId: string | undefined;
  /** The `/` filter in force ("" for none). */
  filter: string;
}

export interface ViewContext {
  readonly screen: blessed.Widgets.Screen;
  /** The area between header and footer; views put their widgets in it. */
  readonly parent: blessed.Widgets.BoxElement;
  readonly source: FleetSource;
  readonly theme: Theme;
  readonly glyphs: Glyphs;
  readonly state: UiState;
  /** Size of `parent` in cells. */
  size(): { width: number; height: number };
  now(): number;
  markDirty(part: Part): void;
}

/** A full-area view. Its update() is called by the scheduler only, after markDirty(view). */
export interface View extends Part {
  readonly name: ViewName;
  show(): void;
  hide(): void;
  /** Where we are, for the footer: "page 2/5", "12 of 1000". */
  status(): string;
  /** For the header: "Fleet", "Fleet › gpu-node-01". */
  breadcrumb(): string;
  move(dx: number, dy: number): void;
  page(delta: number): void;
  edge(which: 'first' | 'last'): void;
}
