import type { ViewName } from './views/index.js';

/** The wizard's steps, as key contexts: each answers to its own keys. */
export type WizardContext = 'wizard' | 'preflight' | 'confirm' | 'progress' | 'result';

/**
 * Where a key applies: a view (or a part of one that has focus: the server's workloads pane,
 * a migration's details), a wizard step, or an overlay that takes the keyboard while open.
 */
export type KeyContext = ViewName | 'server-workloads' | 'details' | WizardContext | 'filter' | 'command' | 'help' | 'ask';

/** What a key can do; the dashboard implements these for what is in front. */
export interface KeyActions {
  move(dx: number, dy: number): void;
  page(delta: number): void;
  edge(which: 'first' | 'last'): void;
  open(): void;
  back(): void;
  quit(): void;
  toggleHelp(): void;
  showView(name: ViewName): void;
  focusNext(): void;
  /** Opens the migration wizard for the selected workload. */
  migrate(): void;
  /** Asks, then cancels the selected live migration. */
  cancelMigration(): void;
  startFilter(): void;
  clearFilter(): void;
  applyFilter(): void;
  cancelFilter(): void;
  eraseFilter(): void;
  startCommand(): void;
  completeCommand(): void;
  runCommand(): void;
  cancelCommand(): void;
  eraseCommand(): void;
  wizardMove(delta: number): void;
  wizardNext(): void;
  wizardBack(): void;
  wizardCancel(): void;
  answer(yes: boolean): void;
}

export interface KeyBinding {
  /** Key names as blessed reports them in `key.full`: "j", "down", "enter", "C-c", "?". */
  readonly keys: readonly string[];
  /** How help and the footer print the keys (ASCII, so every terminal shows it). */
  readonly label: string;
  readonly description: string;
  readonly when: readonly KeyContext[];
  /** How help names `when` when it is a long list ("any view", "anywhere"). */
  readonly where?: string;
  /** A word or two for the footer; bindings without one appear only in help. */
  readonly hint?: string;
  readonly action: (actions: KeyActions) => void;
}

const VIEWS: readonly KeyContext[] = ['fleet', 'server', 'server-workloads', 'workloads', 'migrations', 'details'];
const WIZARD: readonly KeyContext[] = ['wizard', 'preflight', 'confirm', 'progress', 'result'];
const LISTS: readonly KeyContext[] = ['workloads', 'migrations'];
const ANYWHERE: readonly KeyContext[] = [...VIEWS, ...WIZARD, 'filter', 'command', 'help', 'ask'];

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
  { keys: ['escape'], label: 'Esc', description: 'clear the filter', when: ['fleet', ...LISTS], action: (a) => a.clearFilter() },
  // One server.
  { keys: ['escape'], label: 'Esc', description: 'back to the view before', when: ['server'], hint: 'back', action: (a) => a.back() },
  { keys: ['pagedown', 'j', 'down'], label: 'PgDn/j', description: 'next page of panes', when: ['server'], hint: 'more', action: (a) => a.page(1) },
  { keys: ['pageup', 'k', 'up'], label: 'PgUp/k', description: 'previous page of panes', when: ['server'], action: (a) => a.page(-1) },
  { keys: ['l', 'right'], label: 'l/right', description: 'show the next server', when: ['server', 'server-workloads'], hint: 'next', action: (a) => a.move(1, 0) },
  { keys: ['h', 'left'], label: 'h/left', description: 'show the previous server', when: ['server', 'server-workloads'], action: (a) => a.move(-1, 0) },
  { keys: ['tab'], label: 'Tab', description: 'choose in the workloads pane, or go back to paging', when: ['server', 'server-workloads'], hint: 'workloads', action: (a) => a.focusNext() },
  // The server's workloads pane, after Tab.
  { keys: ['j', 'down'], label: 'j/down', description: 'select the workload below', when: ['server-workloads', 'workloads'], action: (a) => a.move(0, 1) },
  { keys: ['k', 'up'], label: 'k/up', description: 'select the workload above', when: ['server-workloads', 'workloads'], action: (a) => a.move(0, -1) },
  { keys: ['escape'], label: 'Esc', description: 'leave the workloads pane', when: ['server-workloads'], action: (a) => a.back() },
  { keys: ['m'], label: 'm', description: 'migrate the selected workload (the first, on a server without a choice)', when: ['server', 'server-workloads', 'workloads'], hint: 'migrate', action: (a) => a.migrate() },
  // Workloads and Migrations tables.
  { keys: ['j', 'down'], label: 'j/down', description: 'select the migration below', when: ['migrations', 'details'], action: (a) => a.move(0, 1) },
  { keys: ['k', 'up'], label: 'k/up', description: 'select the migration above', when: ['migrations', 'details'], action: (a) => a.move(0, -1) },
  { keys: ['g', 'home'], label: 'g/Home', description: 'select the first row', when: LISTS, action: (a) => a.edge('first') },
  { keys: ['S-g', 'end'], label: 'G/End', description: 'select the last row', when: LISTS, action: (a) => a.edge('last') },
  { keys: ['pagedown'], label: 'PgDn', description: 'next page of rows', when: LISTS, action: (a) => a.page(1) },
  { keys: ['pageup'], label: 'PgUp', description: 'previous page of rows', when: LISTS, action: (a) => a.page(-1) },
  { keys: ['enter'], label: 'Enter', description: 'open the server the selected workload runs on', when: ['workloads'], hint: 'server', action: (a) => a.open() },
  { keys: ['enter'], label: 'Enter', description: 'show the selected migration in detail', when: ['migrations'], hint: 'details', action: (a) => a.open() },
  { keys: ['/'], label: '/', description: 'filter rows by name, server, state or label', when: LISTS, hint: 'filter', action: (a) => a.startFilter() },
  { keys: ['c'], label: 'c', description: 'cancel the selected live migration (asks first)', when: ['migrations', 'details'], hint: 'cancel', action: (a) => a.cancelMigration() },
  { keys: ['escape'], label: 'Esc', description: 'back to the list of migrations', when: ['details'], hint: 'back', action: (a) => a.back() },
  // Switching views, from any view.
  { keys: ['f', '1'], label: 'f/1', description: 'show the Fleet view', when: VIEWS, where: 'any view', action: (a) => a.showView('fleet') },
  { keys: ['w', '2'], label: 'w/2', description: 'show the Workloads view', when: VIEWS, where: 'any view', action: (a) => a.showView('workloads') },
  { keys: ['S-m', '3'], label: 'M/3', description: 'show the Migrations view', when: VIEWS, where: 'any view', action: (a) => a.showView('migrations') },
  { keys: [':'], label: ':', description: 'command line (:fleet, :migrate NAME, :q; Tab completes)', when: VIEWS, where: 'any view', hint: 'command', action: (a) => a.startCommand() },
  // The migration wizard.
  { keys: ['j', 'down'], label: 'j/down', description: 'next choice (skips hosts that cannot take it)', when: ['wizard'], hint: 'choose', action: (a) => a.wizardMove(1) },
  { keys: ['k', 'up'], label: 'k/up', description: 'previous choice', when: ['wizard'], action: (a) => a.wizardMove(-1) },
  { keys: ['enter'], label: 'Enter', description: 'take the choice and go on', when: ['wizard'], hint: 'next', action: (a) => a.wizardNext() },
  { keys: ['enter'], label: 'Enter', description: 'go on to confirm (only when every check passed)', when: ['preflight'], hint: 'next', action: (a) => a.wizardNext() },
  { keys: ['y', 'enter'], label: 'y/Enter', description: 'start the migration', when: ['confirm'], hint: 'start', action: (a) => a.wizardNext() },
  { keys: ['escape'], label: 'Esc', description: 'one step back (closes on the first step)', when: ['wizard', 'preflight'], hint: 'back', action: (a) => a.wizardBack() },
  { keys: ['n', 'escape'], label: 'n/Esc', description: 'back to the checks', when: ['confirm'], hint: 'back', action: (a) => a.wizardBack() },
  { keys: ['c'], label: 'c', description: 'cancel the migration (asks first; it rolls back)', when: ['progress'], hint: 'cancel', action: (a) => a.wizardCancel() },
  { keys: ['escape'], label: 'Esc', description: 'hide the wizard; the migration goes on (see Migrations)', when: ['progress'], hint: 'hide', action: (a) => a.wizardBack() },
  { keys: ['enter', 'escape'], label: 'Enter/Esc', description: 'close the wizard', when: ['result'], hint: 'close', action: (a) => a.wizardBack() },
  // A yes/no question.
  { keys: ['y'], label: 'y', description: 'answer yes: do it', when: ['ask'], hint: 'yes', action: (a) => a.answer(true) },
  { keys: ['n', 'escape'], label: 'n/Esc', description: 'answer no: leave things as they are', when: ['ask'], hint: 'no', action: (a) => a.answer(false) },
  // The / prompt.
  { keys: ['enter'], label: 'Enter', description: 'keep the filter and return to the list', when: ['filter'], hint: 'keep', action: (a) => a.applyFilter() },
  { keys: ['escape'], label: 'Esc', description: 'cancel and clear the filter', when: ['filter'], hint: 'clear', action: (a) => a.cancelFilter() },
  { keys: ['backspace'], label: 'Backspace', description: 'delete the last character', when: ['filter'], action: (a) => a.eraseFilter() },
  // The : command line.
  { keys: ['tab'], label: 'Tab', description: 'complete a command or workload name', when: ['command'], hint: 'complete', action: (a) => a.completeCommand() },
  { keys: ['enter'], label: 'Enter', description: 'run the command', when: ['command'], hint: 'run', action: (a) => a.runCommand() },
  { keys: ['escape'], label: 'Esc', description: 'cancel the command line', when: ['command'], hint: 'cancel', action: (a) => a.cancelCommand() },
  { keys: ['backspace'], label: 'Backspace', description: 'delete the last character of the command', when: ['command'], action: (a) => a.eraseCommand() },
  // Help.
  { keys: ['escape', 'q'], label: 'Esc/q', description: 'close help', when: ['help'], hint: 'close', action: (a) => a.toggleHelp() },
  { keys: ['j', 'down'], label: 'j/down', description: 'scroll help down', when: ['help'], hint: 'scroll', action: (a) => a.move(0, 1) },
  { keys: ['k', 'up'], label: 'k/up', description: 'scroll help up', when: ['help'], action: (a) => a.move(0, -1) },
  { keys: ['pagedown', 'space'], label: 'PgDn/Space', description: 'scroll help a page down', when: ['help'], action: (a) => a.page(1) },
  { keys: ['pageup'], label: 'PgUp', description: 'scroll help a page up', when: ['help'], action: (a) => a.page(-1) },
  // Everywhere.
  { keys: ['?'], label: '?', description: 'show or hide this help', when: [...VIEWS, ...WIZARD, 'help'], where: 'views, wizard, help', hint: 'help', action: (a) => a.toggleHelp() },
  { keys: ['q'], label: 'q', description: 'quit', when: VIEWS, where: 'any view', hint: 'quit', action: (a) => a.quit() },
  { keys: ['C-c'], label: 'C-c', description: 'quit from anywhere', when: ANYWHERE, where: 'anywhere', action: (a) => a.quit() },
];

/** The binding for a key in a context, if any: the first match in KEYMAP order wins. */
export function bindingFor(context: KeyContext, key: string): KeyBinding | undefined {
  return KEYMAP.find((b) => b.when.includes(context) && b.keys.includes(key));
}

/** How help names where a binding applies. */
export function whereText(binding: KeyBinding): string {
  return binding.where ?? binding.when.join(', ');
}
