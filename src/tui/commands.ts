import type { ViewEntry, ViewName } from './views/index.js';

/** What a `:` command can do; the dashboard implements these. */
export interface CommandActions {
  showView(name: ViewName): void;
  /** Opens the migration wizard, for `workload` or with a list to pick one from. */
  openWizard(workload: string | undefined): void;
  toggleHelp(): void;
  quit(): void;
}

export interface Command {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** The argument it takes, as help prints it; completed from the workload names. */
  readonly arg?: 'WORKLOAD';
  readonly description: string;
  readonly run: (actions: CommandActions, arg: string | undefined) => void;
}

/** The commands that are not views. Every view in the registry is a command as well. */
const COMMANDS: readonly Command[] = [
  { name: 'migrate', arg: 'WORKLOAD', description: 'open the migration wizard for WORKLOAD, or pick one', run: (a, arg) => a.openWizard(arg) },
  { name: 'help', description: 'show the keys and commands', run: (a) => a.toggleHelp() },
  { name: 'q', aliases: ['quit'], description: 'quit', run: (a) => a.quit() },
];

/** Every `:` command: one per view of the registry (`:fleet`), then COMMANDS. */
export function commandTable(views: Readonly<Record<string, ViewEntry>>): Command[] {
  const viewCommands = Object.entries(views).map(([name, view]): Command => ({
    name,
    description: `show the ${view.title} view`,
    run: (a) => a.showView(name as ViewName),
  }));
  return [...viewCommands, ...COMMANDS];
}

/** How help prints a command: ":migrate [WORKLOAD]", ":q, :quit". */
export function commandUsage(command: Command): string {
  const names = [command.name, ...(command.aliases ?? [])].map((n) => `:${n}`).join(', ');
  return command.arg ? `${names} [${command.arg}]` : names;
}
