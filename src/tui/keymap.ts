import type { ViewName } from './views/index.js';

/** Where a key applies: a view, or an overlay that takes the keyboard while open. */
export type KeyContext = ViewName | 'filter' | 'help';

/** What a key can do; the dashboard implements these for the view in front. */
export interface KeyActions {
  move(dx: number, dy: number): void;
  page(delta: number): void;
  edge(which: 'first' | 'last'): void;
  open(): void;
  back(): void;
  quit(): void;
  toggleHelp(): void;
  startFilter(): void;
  clearFilter(): void;
  applyFilter(): void;
  cancelFilter(): void;
  eraseFilter(): void;
}

export interface KeyBinding {
  /** Key names as blessed reports them in `key.full`: "j", "down", "enter", "C-c", "?". */
  readonly keys: readonly string[];
  /** How help and the footer print the keys (ASCII, so every terminal shows it). */
  readonly label: string;
  readonly description: string;
  readonly when: readonly KeyContext[];
  /** A word or two for the footer; bindings without one appear only in help. */
  readonly hint?: string;
  readonly action: (actions: KeyActions) => void;
}

const VIEWS: readonly KeyContext[] = ['fleet', 'server'];

/** Every key the dashboard answers to. Help is generated from this list, never written by hand. */
export const KEYMAP: readonly KeyBinding[] = [
  // The fleet grid.
  { keys: ['j', 'down'], label: 'j/down', description: 'select the server below', when: ['fleet'], action: (a) => a.move(0, 1) },
  { keys: ['k', 'up'], label: 'k/up', description: 'select the server above', when: ['fleet'], action: (a) => a.move(0, -1) },
  { keys: ['l', 'right'], label: 'l/right', description: 'select the next server', when: ['fleet'], action: (a) => a.move(1, 0) },
  { keys: ['h', 'left'], label: 'h/left', description: 'select the previous server', when: ['fleet'], action: (a) => a.move(-1, 0) },
  { keys: ['g', 'home'], label: 'g/Home', description: 'select the first server', when: ['fleet'], action: (a) => a.edge('first') },
  { keys: ['S-g', 'end'], label: 'G/End', description: 'select the last server', when: ['fleet'], action: (a) => a.edge('last') },
  { keys: ['pagedown'], label: 'PgDn', description: 'next page of servers', when: ['fleet'], hint: 'page', action: (a) => a.page(1) },
  { keys: ['pageup'], label: 'PgUp', description: 'previous page of servers', when: ['fleet'], action: (a) => a.page(-1) },
  { keys: ['enter'], label: 'Enter', description: 'open the selected server', when: ['fleet'], hint: 'open', action: (a) => a.open() },
  { keys: ['/'], label: '/', description: 'filter by name, hostname or label (gpu=a100)', when: ['fleet'], hint: 'filter', action: (a) => a.startFilter() },
  { keys: ['escape'], label: 'Esc', description: 'clear the filter', when: ['fleet'], action: (a) => a.clearFilter() },
  // One server.
  { keys: ['escape'], label: 'Esc', description: 'back to the fleet', when: ['server'], hint: 'back', action: (a) => a.back() },
  { keys: ['pagedown', 'j', 'down'], label: 'PgDn/j', description: 'next page of panes', when: ['server'], hint: 'more', action: (a) => a.page(1) },
  { keys: ['pageup', 'k', 'up'], label: 'PgUp/k', description: 'previous page of panes', when: ['server'], action: (a) => a.page(-1) },
  { keys: ['l', 'right'], label: 'l/right', description: 'show the next server', when: ['server'], hint: 'next', action: (a) => a.move(1, 0) },
  { keys: ['h', 'left'], label: 'h/left', description: 'show the previous server', when: ['server'], action: (a) => a.move(-1, 0) },
  // The / prompt.
  { keys: ['enter'], label: 'Enter', description: 'keep the filter and return to the grid', when: ['filter'], hint: 'keep', action: (a) => a.applyFilter() },
  { keys: ['escape'], label: 'Esc', description: 'cancel and clear the filter', when: ['filter'], hint: 'clear', action: (a) => a.cancelFilter() },
  { keys: ['backspace'], label: 'Backspace', description: 'delete the last character', when: ['filter'], action: (a) => a.eraseFilter() },
  // Help.
  { keys: ['escape', 'q'], label: 'Esc/q', description: 'close help', when: ['help'], hint: 'close', action: (a) => a.toggleHelp() },
  { keys: ['j', 'down'], label: 'j/down', description: 'scroll help down', when: ['help'], hint: 'scroll', action: (a) => a.move(0, 1) },
  { keys: ['k', 'up'], label: 'k/up', description: 'scroll help up', when: ['help'], action: (a) => a.move(0, -1) },
  // Everywhere.
  { keys: ['?'], label: '?', description: 'show or hide this help', when: [...VIEWS, 'help'], hint: 'help', action: (a) => a.toggleHelp() },
  { keys: ['q'], label: 'q', description: 'quit', when: VIEWS, hint: 'quit', action: (a) => a.quit() },
  { keys: ['C-c'], label: 'C-c', description: 'quit from anywhere', when: [...VIEWS, 'filter', 'help'], action: (a) => a.quit() },
];

/** The binding for a key in a context, if any: the first match in KEYMAP order wins. */
export function bindingFor(context: KeyContext, key: string): KeyBinding | undefined {
  return KEYMAP.find((b) => b.when.includes(context) && b.keys.includes(key));
}
