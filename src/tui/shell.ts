import type blessed from 'blessed';
import { errorMessage } from '../core/errors.js';
import { CommandLine } from './command-line.js';
import type { Command, CommandActions } from './commands.js';
import {
  bindingFor,
  bindingText,
  refusal,
  roleRefusal,
  type KeyActions,
  type KeyContext,
  type Keymap,
  type Restrictions,
} from './keymap.js';
import { INPUT_MAX, type InputPrompt } from './route-keys.js';
import { themeNames } from './theme.js';
import type { View, ViewContext, ViewName, ViewUi } from './views/view.js';
import type { HelpOverlay } from './widgets/help-overlay.js';
import type { LogsPane } from './widgets/logs-pane.js';
import type { Question } from './widgets/question.js';
import type { Wizard } from './wizard/wizard.js';

/** Which prompt or overlay, if any, has the keyboard (the wizard and questions say so themselves). */
type Mode = 'normal' | 'filter' | 'command' | 'help' | 'input' | 'logs';

export interface ShellParts {
  ctx: ViewContext;
  views: ReadonlyMap<ViewName, View>;
  help: HelpOverlay;
  logs: LogsPane;
  wizard: Wizard;
  question: Question;
  commands: readonly Command[];
  keymap: Keymap;
  limits: Restrictions;
  /** The view in front at start. */
  start: ViewName;
  /** Switches the theme; returns what to tell the operator. */
  setTheme(name: string): string;
  quit(): void;
  /** What quitting would stop for others, to ask first; undefined: nothing shared, quit at once. */
  quitQuestion?: () => string | undefined;
  /** Repaints the whole terminal. */
  redraw(): void;
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
  /** The answer being typed while the mode is 'input'. */
  private input: InputPrompt | undefined;
  /** What the view's keys may use: questions, prompts, footer notices, the logs pane, the wizard. */
  readonly ui: ViewUi;
  /** The quit question last asked: while it is open, quitting again quits. */
  private quitAsked: string | undefined;
  /** Where Esc from the server view goes back to. */
  private previous: ViewName = 'fleet';

  constructor(private readonly parts: ShellParts) {
    this.view = parts.views.get(parts.start)!;
    const { source } = parts.ctx;
    this.commandLine = new CommandLine(parts.commands, (kind) => {
      if (kind === 'THEME') return themeNames();
      if (kind === 'SERVER') return source.list().map((fs) => fs.server.name);
      return source.workloads().map((w) => w.spec.name);
    });
    this.ui = {
      source,
      ask: (text, onYes) => parts.question.ask(text, onYes),
      input: (prompt) => {
        this.input = prompt;
        this.mode = 'input';
      },
      notify: (text) => {
        this.notice = text;
      },
      report: (action, ok) => this.report(action, ok),
      openLogs: (title, follow) => {
        parts.logs.open(title, follow);
        this.mode = 'logs';
      },
      openWizard: (workload) => this.openWizard(workload),
    };
  }

  /**
   * A key: what it is bound to where the keyboard is, or a character for the open prompt.
   * A binding this dashboard refuses (read-only, wall), or the caller's role does not allow,
   * says so in the footer instead.
   * False when the key meant nothing here.
   */
  press(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg): boolean {
    const binding = bindingFor(this.parts.keymap, this.context(), key.full);
    if (!binding) return this.type(ch, key);
    this.notice = undefined;
    const refused = refusal(binding, this.parts.limits);
    const denied = roleRefusal(binding, bindingText(binding), this.parts.ctx.source.role);
    if (refused) this.notice = `${refused}: ${bindingText(binding)} is off on this dashboard`;
    else if (denied) this.notice = denied;
    else binding.action(this);
    return true;
  }

  context(): KeyContext {
    if (this.parts.question.open) return 'ask';
    if (this.mode !== 'normal') return this.mode;
    if (this.parts.wizard.visible) return this.parts.wizard.context();
    return this.view.context();
  }

  filter(): string {
    return this.parts.ctx.state.filters[this.view.name];
  }

  /** The open prompt as the footer shows it, with the cursor; undefined when none is open. */
  prompt(): string | undefined {
    if (this.mode === 'filter') return `filter: /${this.filter()}_`;
    if (this.mode === 'input') return `${this.input?.label}: ${this.input?.text}_`;
    if (this.mode !== 'command') return undefined;
    const { text, candidates } = this.commandLine;
    return candidates.length > 0 ? `:${text}_   ${candidates.join('  ')}` : `:${text}_`;
  }

  /** A typed character for the open prompt; false when no prompt takes text. */
  private type(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg): boolean {
    if (this.mode !== 'filter' && this.mode !== 'command' && this.mode !== 'input') return false;
    if (ch === undefined || key.ctrl || key.meta || ch < ' ' || ch === '\x7f') return false;
    if (this.mode === 'input') {
      if (this.input && this.input.text.length < INPUT_MAX) this.input.text += ch;
    } else if (this.mode === 'command') this.commandLine.type(ch);
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
    else if (this.mode === 'logs') this.parts.logs.scroll(dy);
    else this.view.move(dx, dy);
  }

  page(delta: number): void {
    if (this.mode === 'help') this.parts.help.page(delta);
    else if (this.mode === 'logs') this.parts.logs.page(delta);
    else this.view.page(delta);
  }

  edge(which: 'first' | 'last'): void {
    if (this.mode === 'logs') this.parts.logs[which === 'first' ? 'top' : 'follow']();
    else this.view.edge(which);
  }

  open(): void {
    const next = this.view.open();
    if (next) this.switchTo(next);
  }

  back(): void {
    if (!this.view.back()) this.switchTo(this.view.name === 'server' ? this.previous : 'fleet');
  }

  /** Quits, after asking when others depend on this dashboard; quitting again while asked quits. */
  quit(): void {
    const { question } = this.parts;
    const ask = question.open && question.asking === this.quitAsked ? undefined : this.parts.quitQuestion?.();
    if (ask === undefined) {
      this.parts.quit();
      return;
    }
    this.quitAsked = ask;
    question.ask(ask, () => this.parts.quit());
  }

  redraw(): void {
    this.parts.redraw();
  }

  toggleHelp(): void {
    this.parts.help.toggle();
    this.mode = this.parts.help.visible ? 'help' : 'normal';
  }

  /** A view; for the server view, `arg` names the server (by name, hostname or id). */
  showView(name: ViewName, arg?: string): void {
    if (arg !== undefined) {
      const found = this.parts.ctx.source
        .list()
        .find(({ server }) => server.name === arg || server.hostname === arg || server.id === arg);
      if (!found) {
        this.notice = `No server named "${arg}": :server then Tab lists them.`;
        return;
      }
      this.parts.ctx.state.selectedId = found.server.id;
    }
    this.switchTo(name);
  }

  setTheme(name: string | undefined): void {
    this.notice =
      name === undefined
        ? `theme in force: ${this.parts.ctx.theme.name} (:theme then Tab lists the others)`
        : this.parts.setTheme(name);
  }

  /**
   * A wall display's turn: the next page of the view in front, else the first page of the
   * next view in `views`.
   */
  rotate(views: readonly ViewName[]): void {
    const at = this.view.position?.();
    if (at && at.page < at.pages - 1) {
      this.view.page(1);
      return;
    }
    this.switchTo(views[(views.indexOf(this.view.name) + 1) % views.length]!);
    this.view.edge('first');
  }

  /** What the next turn of a wall shows: "page 2/3" or the next view's name. */
  upcoming(views: readonly ViewName[]): string {
    const at = this.view.position?.();
    if (at && at.page < at.pages - 1) return `page ${at.page + 2}/${at.pages}`;
    return views[(views.indexOf(this.view.name) + 1) % views.length]!;
  }

  openWizard(workload: string | undefined): void {
    const found = this.parts.ctx.source.workloads().find((w) => w.spec.name === workload);
    if (workload !== undefined && !found)
      this.notice = `No workload named "${workload}": :migrate then Tab lists them.`;
    else this.parts.wizard.open(found);
  }

  closeLogs(): void {
    this.parts.logs.close();
    this.mode = 'normal';
  }

  followLogs(): void {
    this.parts.logs.follow();
  }

  acceptInput(): void {
    const input = this.input;
    this.cancelInput();
    input?.accept(input.text);
  }

  cancelInput(): void {
    this.input = undefined;
    this.mode = 'normal';
  }

  eraseInput(): void {
    if (this.input) this.input.text = this.input.text.slice(0, -1);
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
    this.commandLine.remember();
    this.mode = 'normal';
    if ('error' in parsed) {
      this.notice = parsed.error;
      return;
    }
    const { command } = parsed;
    const refused =
      command.mutates && this.parts.limits.readonly
        ? `read-only: :${command.name} is off on this dashboard`
        : roleRefusal(command, `:${command.name}`, this.parts.ctx.source.role);
    if (refused) this.notice = refused;
    else command.run(this, parsed.arg);
  }

  recallCommand(steps: number): void {
    this.commandLine.recall(steps);
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

  wizardPrecopy(): void {
    this.parts.wizard.precopy();
  }

  answer(yes: boolean): void {
    this.parts.question.answer(yes);
  }

  private setFilter(text: string): void {
    this.parts.ctx.state.filters[this.view.name] = text;
  }

  /** Reports how an action ended in the footer, errors included: nothing is thrown at the operator. */
  private report<T>(action: () => Promise<T>, ok: (value: T) => string): void {
    Promise.resolve()
      .then(action)
      .then(
        (value) => {
          this.notice = ok(value);
        },
        (err: unknown) => {
          this.notice = `Failed: ${errorMessage(err)}`;
        },
      )
      .finally(() => this.parts.changed());
  }
}
