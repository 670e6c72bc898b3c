import { roleHolds, type Role } from '../core/pki/roles.js';
import { keyLabel, keysLabel } from './key-names.js';
import { VIEW_BINDINGS, VIEW_NAMES, VIEWS as VIEW_ENTRIES, type ViewName } from './views/index.js';
import type { View, ViewUi } from './views/view.js';

/** The wizard's steps, as key contexts: each answers to its own keys. */
export type WizardContext = 'wizard' | 'preflight' | 'confirm' | 'progress' | 'result';

/**
 * Where a key applies: a view (or a part of one that has focus: the server's workloads pane,
 * a migration's details), a wizard step, or an overlay that takes the keyboard while open.
 */
export type KeyContext =
  | ViewName
  | 'server-workloads'
  | 'details'
  | WizardContext
  | 'filter'
  | 'command'
  | 'help'
  | 'ask'
  | 'input'
  | 'logs';

/**
 * What a key can do: the dashboard's own actions (views, prompts, overlays, the wizard), and
 * the view in front with what its keys may use (views/view.ts onView).
 */
export interface KeyActions {
  readonly view: View;
  readonly ui: ViewUi;
  move(dx: number, dy: number): void;
  page(delta: number): void;
  edge(which: 'first' | 'last'): void;
  open(): void;
  back(): void;
  quit(): void;
  /** Repaints the whole terminal (after something else wrote over it). */
  redraw(): void;
  toggleHelp(): void;
  showView(name: ViewName): void;
  /** Closes the logs pane. */
  closeLogs(): void;
  /** Back to following the end of the logs. */
  followLogs(): void;
  acceptInput(): void;
  cancelInput(): void;
  eraseInput(): void;
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
  /** The command run `steps` before (negative: back towards the line being typed). */
  recallCommand(steps: number): void;
  wizardMove(delta: number): void;
  wizardNext(): void;
  wizardBack(): void;
  wizardCancel(): void;
  wizardPrecopy(): void;
  answer(yes: boolean): void;
}

/** A binding as declared: everything but the label, which is made from the keys. */
export interface BindingSpec {
  /**
   * The action's name in the config file's `keys:` section ("down", "migrate"). Several
   * bindings share a name when they do the same thing in different places; rebinding the
   * name rebinds them all.
   */
  readonly name: string;
  /** Key names as blessed reports them in `key.full`: "j", "down", "enter", "C-c", "?", "S-g" (G). */
  readonly keys: readonly string[];
  readonly description: string;
  readonly when: readonly KeyContext[];
  /** How help names `when` when it is a long list ("any view", "anywhere"). */
  readonly where?: string;
  /** A word or two for the footer; bindings without one appear only in help. */
  readonly hint?: string;
  /**
   * It changes the fleet (starts or cancels a migration): refused by a read-only dashboard, and
   * to a caller without the operator role.
   */
  readonly mutates?: true;
  /** A wall display answers to it: quitting and help. A wall takes no other input. */
  readonly wall?: true;
  /** Not in the config file's reach: the way out must always work. */
  readonly fixed?: true;
  readonly action: (actions: KeyActions) => void;
}

export interface KeyBinding extends BindingSpec {
  /** How help and the footer print the keys (ASCII, so every terminal shows it): "j/down". */
  readonly label: string;
}

/** The bindings in force: the defaults, or the defaults with the config file's keys. */
export type Keymap = readonly KeyBinding[];

/** Where view keys apply: every view, and the parts of one that take keys of their own (a pane, details). */
const VIEW_CONTEXTS: readonly KeyContext[] = [...new Set(VIEW_BINDINGS.flatMap((b) => b.when))];
const WIZARD: readonly KeyContext[] = ['wizard', 'preflight', 'confirm', 'progress', 'result'];
const ANYWHERE: readonly KeyContext[] = [
  ...VIEW_CONTEXTS,
  ...WIZARD,
  'filter',
  'command',
  'help',
  'ask',
  'input',
  'logs',
];

/** The keys that mean the same wherever they work: switching views, prompts, overlays, the wizard. */
const GLOBAL: readonly BindingSpec[] = [
  // Switching views, from any view.
  ...VIEW_NAMES.flatMap((name): BindingSpec[] => {
    const { title, keys } = VIEW_ENTRIES[name];
    return keys
      ? [
          {
            name: `show-${name}`,
            keys,
            description: `show the ${title} view`,
            when: VIEW_CONTEXTS,
            where: 'any view',
            action: (a) => a.showView(name),
          },
        ]
      : [];
  }),
  {
    name: 'command',
    keys: [':'],
    description: 'command line (:fleet, :server NAME, :theme NAME, :migrate NAME, :q; Tab completes, Up recalls)',
    when: VIEW_CONTEXTS,
    where: 'any view',
    hint: 'command',
    action: (a) => a.startCommand(),
  },
  // The migration wizard.
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'next choice (skips hosts that cannot take it)',
    when: ['wizard'],
    hint: 'choose',
    action: (a) => a.wizardMove(1),
  },
  { name: 'up', keys: ['k', 'up'], description: 'previous choice', when: ['wizard'], action: (a) => a.wizardMove(-1) },
  {
    name: 'next',
    keys: ['enter'],
    description: 'take the choice and go on',
    when: ['wizard'],
    hint: 'next',
    action: (a) => a.wizardNext(),
  },
  {
    name: 'next',
    keys: ['enter'],
    description: 'go on to confirm (only when every check passed)',
    when: ['preflight'],
    hint: 'next',
    action: (a) => a.wizardNext(),
  },
  {
    name: 'next',
    keys: ['y', 'enter'],
    description: 'start the migration',
    when: ['confirm'],
    hint: 'start',
    mutates: true,
    action: (a) => a.wizardNext(),
  },
  {
    name: 'back',
    keys: ['escape'],
    description: 'one step back (closes on the first step)',
    when: ['wizard', 'preflight'],
    hint: 'back',
    action: (a) => a.wizardBack(),
  },
  {
    name: 'back',
    keys: ['n', 'escape'],
    description: 'back to the checks',
    when: ['confirm'],
    hint: 'back',
    action: (a) => a.wizardBack(),
  },
  {
    name: 'precopy',
    keys: ['p'],
    description: 'pre-copy the state while it runs: auto (by its size), on or off (checkpoint strategy)',
    when: ['confirm'],
    hint: 'pre-copy',
    action: (a) => a.wizardPrecopy(),
  },
  {
    name: 'cancel-migration',
    keys: ['c'],
    description: 'cancel the migration (asks first; it rolls back)',
    when: ['progress'],
    hint: 'cancel',
    mutates: true,
    action: (a) => a.wizardCancel(),
  },
  {
    name: 'back',
    keys: ['escape'],
    description: 'hide the wizard; the migration goes on (see Migrations)',
    when: ['progress'],
    hint: 'hide',
    action: (a) => a.wizardBack(),
  },
  {
    name: 'close',
    keys: ['enter', 'escape'],
    description: 'close the wizard',
    when: ['result'],
    hint: 'close',
    action: (a) => a.wizardBack(),
  },
  // The logs pane (t on a workload).
  {
    name: 'close',
    keys: ['escape', 'q'],
    description: 'close the logs pane',
    when: ['logs'],
    hint: 'close',
    action: (a) => a.closeLogs(),
  },
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'scroll the logs down',
    when: ['logs'],
    hint: 'scroll',
    action: (a) => a.move(0, 1),
  },
  {
    name: 'up',
    keys: ['k', 'up'],
    description: 'scroll the logs up (stops following)',
    when: ['logs'],
    action: (a) => a.move(0, -1),
  },
  {
    name: 'page-down',
    keys: ['pagedown', 'space'],
    description: 'scroll the logs a page down',
    when: ['logs'],
    action: (a) => a.page(1),
  },
  {
    name: 'page-up',
    keys: ['pageup'],
    description: 'scroll the logs a page up (stops following)',
    when: ['logs'],
    action: (a) => a.page(-1),
  },
  {
    name: 'first',
    keys: ['g', 'home'],
    description: 'scroll to the oldest line kept (stops following)',
    when: ['logs'],
    action: (a) => a.edge('first'),
  },
  {
    name: 'last',
    keys: ['S-g', 'end'],
    description: 'follow the end of the logs again',
    when: ['logs'],
    hint: 'follow',
    action: (a) => a.followLogs(),
  },
  // A number typed for an action (the Routes view's weight).
  {
    name: 'accept',
    keys: ['enter'],
    description: 'take the number typed',
    when: ['input'],
    hint: 'ok',
    action: (a) => a.acceptInput(),
  },
  {
    name: 'cancel',
    keys: ['escape'],
    description: 'cancel: change nothing',
    when: ['input'],
    hint: 'cancel',
    action: (a) => a.cancelInput(),
  },
  {
    name: 'erase',
    keys: ['backspace'],
    description: 'erase the last character typed',
    when: ['input'],
    action: (a) => a.eraseInput(),
  },
  // A yes/no question.
  {
    name: 'yes',
    keys: ['y'],
    description: 'answer yes: do it',
    when: ['ask'],
    hint: 'yes',
    action: (a) => a.answer(true),
  },
  {
    name: 'no',
    keys: ['n', 'escape'],
    description: 'answer no: leave things as they are',
    when: ['ask'],
    hint: 'no',
    action: (a) => a.answer(false),
  },
  // The / prompt.
  {
    name: 'accept',
    keys: ['enter'],
    description: 'keep the filter and return to the list',
    when: ['filter'],
    hint: 'keep',
    action: (a) => a.applyFilter(),
  },
  {
    name: 'cancel',
    keys: ['escape'],
    description: 'cancel and clear the filter',
    when: ['filter'],
    hint: 'clear',
    action: (a) => a.cancelFilter(),
  },
  {
    name: 'erase',
    keys: ['backspace'],
    description: 'delete the last character',
    when: ['filter'],
    action: (a) => a.eraseFilter(),
  },
  // The : command line.
  {
    name: 'complete',
    keys: ['tab'],
    description: 'complete a command or workload name',
    when: ['command'],
    hint: 'complete',
    action: (a) => a.completeCommand(),
  },
  {
    name: 'accept',
    keys: ['enter'],
    description: 'run the command',
    when: ['command'],
    hint: 'run',
    action: (a) => a.runCommand(),
  },
  {
    name: 'cancel',
    keys: ['escape'],
    description: 'cancel the command line',
    when: ['command'],
    hint: 'cancel',
    action: (a) => a.cancelCommand(),
  },
  {
    name: 'erase',
    keys: ['backspace'],
    description: 'delete the last character of the command',
    when: ['command'],
    action: (a) => a.eraseCommand(),
  },
  {
    name: 'history-back',
    keys: ['up'],
    description: 'the command before (history)',
    when: ['command'],
    hint: 'history',
    action: (a) => a.recallCommand(1),
  },
  {
    name: 'history-forward',
    keys: ['down'],
    description: 'the next command in the history',
    when: ['command'],
    action: (a) => a.recallCommand(-1),
  },
  // Help.
  {
    name: 'close',
    keys: ['escape', 'q'],
    description: 'close help',
    when: ['help'],
    hint: 'close',
    wall: true,
    action: (a) => a.toggleHelp(),
  },
  {
    name: 'down',
    keys: ['j', 'down'],
    description: 'scroll help down',
    when: ['help'],
    hint: 'scroll',
    wall: true,
    action: (a) => a.move(0, 1),
  },
  {
    name: 'up',
    keys: ['k', 'up'],
    description: 'scroll help up',
    when: ['help'],
    wall: true,
    action: (a) => a.move(0, -1),
  },
  {
    name: 'page-down',
    keys: ['pagedown', 'space'],
    description: 'scroll help a page down',
    when: ['help'],
    wall: true,
    action: (a) => a.page(1),
  },
  {
    name: 'page-up',
    keys: ['pageup'],
    description: 'scroll help a page up',
    when: ['help'],
    wall: true,
    action: (a) => a.page(-1),
  },
  // Everywhere.
  {
    name: 'help',
    keys: ['?'],
    description: 'show or hide this help',
    when: [...VIEW_CONTEXTS, ...WIZARD, 'help'],
    where: 'views, wizard, help',
    hint: 'help',
    wall: true,
    action: (a) => a.toggleHelp(),
  },
  {
    name: 'quit',
    keys: ['q'],
    description: 'quit',
    when: VIEW_CONTEXTS,
    where: 'any view',
    hint: 'quit',
    wall: true,
    action: (a) => a.quit(),
  },
  {
    name: 'quit-anywhere',
    keys: ['C-c'],
    description: 'quit from anywhere',
    when: ANYWHERE,
    where: 'anywhere',
    fixed: true,
    wall: true,
    action: (a) => a.quit(),
  },
  {
    name: 'redraw',
    keys: ['C-l'],
    description: 'repaint the whole screen',
    when: ANYWHERE,
    where: 'anywhere',
    fixed: true,
    wall: true,
    action: (a) => a.redraw(),
  },
];

/** Every key the dashboard answers to, by default. Help is generated from the keymap in force, never written by hand. */
export const KEYMAP: Keymap = [...VIEW_BINDINGS, ...GLOBAL].map(labelled);

function labelled(spec: BindingSpec): KeyBinding {
  return { ...spec, label: keysLabel(spec.keys) };
}

/** The names the config file may rebind, in keymap order. */
export function actionNames(keymap: Keymap = KEYMAP): string[] {
  return [...new Set(keymap.filter((b) => !b.fixed).map((b) => b.name))];
}

/** The keymap with the keys of some actions replaced (keys in blessed's spelling). */
export function withKeys(keymap: Keymap, keys: Readonly<Record<string, readonly string[]>>): Keymap {
  return keymap.map((b) => {
    const replaced = b.fixed ? undefined : keys[b.name];
    return replaced ? labelled({ ...b, keys: [...new Set(replaced)] }) : b;
  });
}

export interface KeyClash {
  context: KeyContext;
  key: string;
  /** The two actions that want the key there. */
  names: [string, string];
}

/** Keys bound to two different actions in one context (a rebinding gone wrong), first found first. */
export function keyClashes(keymap: Keymap): KeyClash[] {
  const clashes: KeyClash[] = [];
  const owner = new Map<string, KeyBinding>();
  for (const binding of keymap) {
    for (const context of binding.when) {
      for (const key of binding.keys) {
        const slot = `${context} ${key}`;
        const other = owner.get(slot);
        if (!other) owner.set(slot, binding);
        else if (other !== binding) clashes.push({ context, key, names: [other.name, binding.name] });
      }
    }
  }
  return clashes;
}

/** Keys that mean one thing in every view (k9s): switching views, the prompts, help and quit. */
export const GLOBAL_KEYS: readonly string[] = [
  ...VIEW_NAMES.flatMap((name) => VIEW_ENTRIES[name].keys ?? []),
  '/',
  ':',
  '?',
  'q',
];
/** Keys that only ever move: the selection, the page, into and out of things. */
export const MOVING_KEYS: readonly string[] = [
  'j',
  'k',
  'h',
  'l',
  'g',
  'S-g',
  'up',
  'down',
  'left',
  'right',
  'home',
  'end',
  'pageup',
  'pagedown',
  'enter',
  'escape',
  'tab',
];
/** What a moving key may do. */
const MOVES = new Set([
  'down',
  'up',
  'left',
  'right',
  'first',
  'last',
  'page-down',
  'page-up',
  'open',
  'back',
  'clear-filter',
  'next-pane',
]);

/** "M" for "m", "m" for "S-m": the key one Shift away, for letters. */
function shiftPartner(key: string): string | undefined {
  if (/^[a-z]$/.test(key)) return `S-${key}`;
  return /^S-([a-z])$/.exec(key)?.[1];
}

/**
 * Where a keymap breaks the rule that keeps keys from changing meaning between views: a global
 * key bound to different actions (or missing) in some view, a moving key bound to an action, or
 * an action's key one Shift away from a navigation key or from another action's key in the same
 * view (r/R). One line each, empty when it holds.
 */
export function keyRuleBreaches(keymap: Keymap): string[] {
  const breaches: string[] = [];
  const navigation = new Set([...GLOBAL_KEYS, ...MOVING_KEYS]);
  for (const key of GLOBAL_KEYS) {
    const names = VIEW_CONTEXTS.map((c) => bindingFor(keymap, c, key)?.name);
    const bound = new Set(names.filter((n) => n !== undefined));
    if (bound.size > 1) breaches.push(`${keyLabel(key)} means ${[...bound].join(' or ')} depending on the view`);
    const missing = VIEW_CONTEXTS.filter((_, i) => names[i] === undefined);
    if (key !== '/' && missing.length > 0) breaches.push(`${keyLabel(key)} does nothing in ${missing.join(', ')}`);
  }
  for (const context of VIEW_CONTEXTS) {
    const actions = new Map<string, string>();
    for (const b of keymap.filter((x) => x.when.includes(context))) {
      for (const key of b.keys) {
        if (MOVING_KEYS.includes(key) && !MOVES.has(b.name))
          breaches.push(`${context}: ${keyLabel(key)} is ${b.name}, but it moves in every other view`);
        else if (!navigation.has(key)) actions.set(key, b.name);
      }
    }
    for (const [key, name] of actions) {
      const partner = shiftPartner(key);
      if (!partner) continue;
      if (navigation.has(partner))
        breaches.push(
          `${context}: ${keyLabel(key)} (${name}) is one Shift from ${keyLabel(partner)}, a navigation key`,
        );
      else if (actions.has(partner) && !key.startsWith('S-'))
        breaches.push(
          `${context}: ${keyLabel(key)} (${name}) and ${keyLabel(partner)} (${actions.get(partner)}) are one Shift apart`,
        );
    }
  }
  return breaches;
}

/** What a dashboard refuses: a read-only one, actions that change the fleet; a wall, all but quit and help. */
export interface Restrictions {
  readonly readonly: boolean;
  readonly wall: boolean;
}

/** Why a binding is refused here, or undefined when it is allowed. */
export function refusal(binding: Pick<BindingSpec, 'mutates' | 'wall'>, limits: Restrictions): string | undefined {
  if (limits.wall && !binding.wall) return 'wall display';
  if (limits.readonly && binding.mutates) return 'read-only';
  return undefined;
}

/** The weakest role that may use a binding, or run a command: changing the fleet needs an operator. */
function roleNeeded(action: { mutates?: true }): Role {
  return action.mutates ? 'operator' : 'viewer';
}

/** What an action needs that `role` lacks ("needs the operator role"), or undefined when the role may use it. */
export function roleShortfall(action: { mutates?: true }, role: Role): string | undefined {
  const needed = roleNeeded(action);
  return roleHolds(role, needed) ? undefined : `needs the ${needed} role`;
}

/**
 * Why a caller with `role` may not use what `what` names (a binding's "v (migrate)", a command's
 * ":migrate"), or undefined when it may. The controller would refuse it anyway: the dashboard
 * says so before asking, and greys the key out.
 */
export function roleRefusal(action: { mutates?: true }, what: string, role: Role): string | undefined {
  const shortfall = roleShortfall(action, role);
  return shortfall && `${role}: ${what} ${shortfall}`;
}

/** A binding as notices name it: "v (migrate)". */
export function bindingText(binding: Pick<KeyBinding, 'label' | 'name'>): string {
  return `${binding.label} (${binding.name})`;
}

/** The binding for a key in a context, if any: the first match in keymap order wins. */
export function bindingFor(keymap: Keymap, context: KeyContext, key: string): KeyBinding | undefined {
  return keymap.find((b) => b.when.includes(context) && b.keys.includes(key));
}

/** How help names where a binding applies. */
export function whereText(binding: KeyBinding): string {
  return binding.where ?? binding.when.join(', ');
}
