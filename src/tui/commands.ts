import type { ViewEntry, ViewName } from './views/index.js';

/** What a `:` command can do; the dashboard implements these. */
export interface CommandActions {
  /** Shows a view; `arg` names what to show in it (`:server NAME`). */
  showView(name: ViewName, arg?: string): void;
  /** Opens the migration wizard, for `workload` or with a list to pick one from. */
  openWizard(workload: string | undefined): void;
  /** Switches to another theme, by name or path, at once. */
  setTheme(name: string | undefined): void;
  toggleHelp(): void;
  quit(): void;
}

/** What an argument names; Tab completes it from the fleet (or the shipped themes). */
export type ArgKind = 'WORKLOAD' | 'SERVER' | 'THEME';

export interface Command {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** The argument it takes, as help prints it; Tab completes it. */
  readonly arg?: ArgKind;
  readonly description: string;
  /** It changes the fleet: refused by a read-only dashboard. */
  readonly mutates?: true;
  readonly run: (actions: CommandActions, arg: string | undefined) => void;
}

/** The commands that are not views. Every view in the registry is a command as well. */
const COMMANDS: readonly Command[] = [
  {
    name: 'migrate',
    arg: 'WORKLOAD',
    description: 'open the migration wizard for WORKLOAD, or pick one',
    mutates: true,
    run: (a, arg) => a.openWizard(arg),
  },
  {
    name: 'theme',
    arg: 'THEME',
    description: 'switch to THEME (a shipped theme or a path to a theme file); alone, name the one in force',
    run: (a, arg) => a.setTheme(arg),
  },
  { name: 'help', description: 'show the keys and commands', run: (a) => a.toggleHelp() },
  { name: 'q', aliases: ['quit'], description: 'quit', run: (a) => a.quit() },
];

/** Every `:` command: one per view of the registry (`:fleet`, `:server NAME`), then COMMANDS. */
export function commandTable(views: Readonly<Record<string, ViewEntry>>): Command[] {
  const viewCommands = Object.entries(views).map(
    ([name, view]): Command => ({
      name,
      ...(view.arg ? { arg: view.arg } : {}),
      description: view.arg ? `show the ${view.title} view, of ${view.arg} when given` : `show the ${view.title} view`,
      run: (a, arg) => a.showView(name as ViewName, arg),
    }),
  );
  return [...viewCommands, ...COMMANDS];
}

/** How help prints a command: ":migrate [WORKLOAD]", ":q, :quit". */
export function commandUsage(command: Command): string {
  const names = [command.name, ...(command.aliases ?? [])].map((n) => `:${n}`).join(', ');
  return command.arg ? `${names} [${command.arg}]` : names;
}
