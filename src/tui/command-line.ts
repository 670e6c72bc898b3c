import type { ArgKind, Command } from './commands.js';

/** Commands the history keeps: enough for an operator's session, bounded for a wall's week. */
export const HISTORY_SIZE = 50;

export type Parsed = { command: Command; arg: string | undefined } | { error: string };

function commonPrefix(words: readonly string[]): string {
  let prefix = words[0] ?? '';
  for (const word of words) while (!word.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * The text typed after `:`, with Tab completion of command names, then of the argument
 * (workload, server or theme names). An ambiguous Tab completes what the candidates share
 * and lists them. Up and Down recall the commands run before, newest first.
 */
export class CommandLine {
  text = '';
  /** What the last Tab could not choose between. */
  candidates: string[] = [];
  /** Commands run, oldest first, at most HISTORY_SIZE. */
  private readonly history: string[] = [];
  /** How far back Up has gone: 0 is the line being typed. */
  private recalled = 0;
  /** The line being typed, kept while Up shows older ones. */
  private draft = '';

  constructor(
    private readonly commands: readonly Command[],
    private readonly argValues: (kind: ArgKind) => readonly string[],
  ) {}

  clear(): void {
    this.text = '';
    this.candidates = [];
    this.recalled = 0;
    this.draft = '';
  }

  /** Shows the command `steps` further back in the history (negative: forward, to the draft). */
  recall(steps: number): void {
    const to = Math.min(Math.max(this.recalled + steps, 0), this.history.length);
    if (to === this.recalled) return;
    if (this.recalled === 0) this.draft = this.text;
    this.recalled = to;
    this.text = to === 0 ? this.draft : this.history[this.history.length - to]!;
    this.candidates = [];
  }

  /** Keeps the line in the history (once, if it repeats the last one). */
  remember(): void {
    const text = this.text.trim();
    if (text === '' || this.history[this.history.length - 1] === text) return;
    this.history.push(text);
    if (this.history.length > HISTORY_SIZE) this.history.shift();
  }

  type(ch: string): void {
    this.text += ch;
    this.candidates = [];
  }

  erase(): void {
    this.text = this.text.slice(0, -1);
    this.candidates = [];
  }

  complete(): void {
    const space = this.text.indexOf(' ');
    if (space < 0) {
      const names = this.commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]).filter((n) => n.startsWith(this.text));
      this.choose('', this.text, names, (name) => (this.find(name)?.arg ? ' ' : ''));
      return;
    }
    const command = this.find(this.text.slice(0, space));
    if (!command?.arg) return;
    const head = this.text.slice(0, space + 1);
    const partial = this.text.slice(space + 1).trimStart();
    this.choose(
      head,
      partial,
      this.argValues(command.arg).filter((n) => n.startsWith(partial)),
      () => '',
    );
  }

  parse(): Parsed {
    const [name = '', ...rest] = this.text.trim().split(/\s+/);
    const command = this.find(name);
    if (!command) {
      const known = this.commands.map((c) => `:${c.name}`).join(' ');
      return { error: name === '' ? `type a command: ${known}` : `unknown command ":${name}": try ${known}` };
    }
    if (rest.length > (command.arg ? 1 : 0))
      return { error: `:${command.name} takes ${command.arg ? `one ${command.arg}` : 'no argument'}` };
    return { command, arg: rest[0] };
  }

  private find(name: string): Command | undefined {
    return this.commands.find((c) => c.name === name || (c.aliases ?? []).includes(name));
  }

  private choose(head: string, partial: string, matches: readonly string[], after: (name: string) => string): void {
    const unique = [...new Set(matches)].sort();
    if (unique.length === 1) {
      this.text = `${head}${unique[0]}${after(unique[0]!)}`;
      this.candidates = [];
      return;
    }
    const prefix = commonPrefix(unique);
    if (prefix.length > partial.length) this.text = `${head}${prefix}`;
    this.candidates = unique;
  }
}
