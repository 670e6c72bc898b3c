import type blessed from 'blessed';
import { errorMessage } from '../core/errors.js';
import { migrationDone, migrationPhases } from '../core/workload.js';
import { CommandLine } from './command-line.js';
import type { Command, CommandActions } from './commands.js';
import type { KeyActions, KeyContext } from './keymap.js';
import { serverName } from './render/migration.js';
import type { View, ViewContext, ViewName } from './views/view.js';
import type { HelpOverlay } from './widgets/help-overlay.js';
import type { Question } from './widgets/question.js';
import type { Wizard } from './wizard/wizard.js';

/** Which prompt or overlay, if any, has the keyboard (the wizard and questions say so themselves). */
type Mode = 'normal' | 'filter' | 'command' | 'help';

export interface ShellParts {
  ctx: ViewContext;
  views: ReadonlyMap<ViewName, View>;
  help: HelpOverlay;
  wizard: Wizard;
  question: Question;
  commands: readonly Command[];
  quit(): void;
  /** Something changed outside a key press (an action answered): draw it. */
  changed(): void;
}

/**
 * What the keys and `:` commands do: which view is in front, which prompt is open, the
 * wizard and questions, and the one-line notices that report on actions.
 */
export class Shell implements KeyActions, CommandActions {
  view: View;
  /** A line for the footer until the next key: what an action did, or why it did nothing. */
  notice: string | undefined;
  readonly commandLine: CommandLine;
  private mode: Mode = 'normal';
  /** Where Esc from the server view goes back to. */
  private previous: ViewName = 'fleet';

  constructor(private readonly parts: ShellParts) {
    this.view = parts.views.get('fleet')!;
    this.commandLine = new CommandLine(parts.commands, () => parts.ctx.source.workloads().map((w) => w.spec?.name ?? ''));
  }

  context(): KeyContext {
    if (this.parts.question.open) return 'ask';
    if (this.mode === 'help' || this.mode === 'command' || this.mode === 'filter') return this.mode;
    if (this.parts.wizard.visible) return this.parts.wizard.context();
    return this.view.context();
  }

  filter(): string {
    return this.parts.ctx.state.filters[this.view.name];
  }

  /** The open prompt as the footer shows it, with the cursor; undefined when none is open. */
  prompt(): string | undefined {
    if (this.mode === 'filter') return `filter: /${this.filter()}_`;
    if (this.mode !== 'command') return undefined;
    const { text, candidates } = this.commandLine;
    return candidates.length > 0 ? `:${text}_   ${candidates.join('  ')}` : `:${text}_`;
  }

  /** A typed character for the open prompt; false when no prompt takes text. */
  type(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg): boolean {
    if (this.mode !== 'filter' && this.mode !== 'command') return false;
    if (ch === undefined || key.ctrl || key.meta || ch < ' ' || ch === '\x7f') return false;
    if (this.mode === 'command') this.commandLine.type(ch);
    else this.setFilter(this.filter() + ch);
    return true;
  }

  switchTo(name: ViewName): void {
    if (name === this.view.name) return;
    if (name === 'server') this.previous = this.view.name;
    this.view.hide();
    this.view = this.parts.views.get(name)!;
    this.view.show();
  }

  move(dx: number, dy: number): void {
    if (this.mode === 'help') this.parts.help.scroll(dy);
    else this.view.move(dx, dy);
  }

  page(delta: number): void {
    if (this.mode === 'help') this.parts.help.page(delta);
    else this.view.page(delta);
  }

  edge(which: 'first' | 'last'): void {
    this.view.edge(which);
  }

  open(): void {
    const next = this.view.open();
    if (next) this.switchTo(next);
  }

  back(): void {
    if (!this.view.back()) this.switchTo(this.view.name === 'server' ? this.previous : 'fleet');
  }

  quit(): void {
    this.parts.quit();
  }

  toggleHelp(): void {
    this.parts.help.toggle();
    this.mode = this.parts.help.visible ? 'help' : 'normal';
  }

  showView(name: ViewName): void {
    this.switchTo(name);
  }

  focusNext(): void {
    this.view.focusNext?.();
  }

  migrate(): void {
    const name = this.view.selectedWorkload?.();
    if (name === undefined) this.notice = 'No workload here to migrate: select one first (w lists them all).';
    else this.openWizard(name);
  }

  openWizard(workload: string | undefined): void {
    const found = this.parts.ctx.source.workloads().find((w) => w.spec?.name === workload);
    if (workload !== undefined && !found) this.notice = `No workload named "${workload}": :migrate then Tab lists them.`;
    else this.parts.wizard.open(found);
  }

  cancelMigration(): void {
    const m = this.view.selectedMigration?.();
    if (!m) return;
    const short = m.id.slice(0, 8);
    if (migrationDone(m.phase)) {
      this.notice = `Migration ${short} already ended (${migrationPhases.name(m.phase)}): only a live one can be cancelled.`;
      return;
    }
    const from = serverName(this.parts.ctx.source, m.sourceServerId);
    this.parts.question.ask(`Cancel migration ${short} of ${m.workload} (${migrationPhases.name(m.phase)})? It rolls back and ${m.workload} keeps running on ${from}.`, () => {
      this.report(() => this.parts.ctx.source.actions.cancelMigration(m.id), (done) => `Migration ${short}: ${migrationPhases.name(done.phase)}.`);
    });
  }

  startFilter(): void {
    this.mode = 'filter';
  }

  clearFilter(): void {
    this.setFilter('');
  }

  applyFilter(): void {
    this.mode = 'normal';
  }

  cancelFilter(): void {
    this.setFilter('');
    this.mode = 'normal';
  }

  eraseFilter(): void {
    this.setFilter(this.filter().slice(0, -1));
  }

  startCommand(): void {
    this.commandLine.clear();
    this.mode = 'command';
  }

  completeCommand(): void {
    this.commandLine.complete();
  }

  runCommand(): void {
    const parsed = this.commandLine.parse();
    this.mode = 'normal';
    if ('error' in parsed) this.notice = parsed.error;
    else parsed.command.run(this, parsed.arg);
  }

  cancelCommand(): void {
    this.mode = 'normal';
  }

  eraseCommand(): void {
    this.commandLine.erase();
  }

  wizardMove(delta: number): void {
    this.parts.wizard.move(delta);
  }

  wizardNext(): void {
    this.parts.wizard.next();
  }

  wizardBack(): void {
    this.parts.wizard.back();
  }

  wizardCancel(): void {
    this.parts.wizard.cancel();
  }

  answer(yes: boolean): void {
    this.parts.question.answer(yes);
  }

  private setFilter(text: string): void {
    this.parts.ctx.state.filters[this.view.name] = text;
  }

  /** Reports how an action ended in the footer, errors included: nothing is thrown at the operator. */
  private report<T>(action: () => Promise<T>, ok: (value: T) => string): void {
    Promise.resolve().then(action).then(
      (value) => {
        this.notice = ok(value);
      },
      (err: unknown) => {
        this.notice = `Failed: ${errorMessage(err)}`;
      },
    ).finally(() => this.parts.changed());
  }
}
