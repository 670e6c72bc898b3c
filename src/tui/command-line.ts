import type { Command } from './commands.js';

export type Parsed = { command: Command; arg: string | undefined } | { error: string };

function commonPrefix(words: readonly string[]): string {
  let prefix = words[0] ?? '';
  for (const word of words) while (!word.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
}

/**
 * The text typed after `:`, with Tab completion of command names, then of the argument
 * (workload names). An ambiguous Tab completes what the candidates share and lists them.
 */
export class CommandLine {
  text = '';
  /** What the last Tab could not choose between. */
  candidates: string[] = [];

  constructor(
    private readonly commands: readonly Command[],
    private readonly workloadNames: () => readonly string[],
  ) {}

  clear(): void {
    this.text = '';
    this.candidates = [];
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
    if (command?.arg !== 'WORKLOAD') return;
    const head = this.text.slice(0, space + 1);
    const partial = this.text.slice(space + 1).trimStart();
    this.choose(head, partial, this.workloadNames().filter((n) => n.startsWith(partial)), () => '');
  }

  parse(): Parsed {
    const [name = '', ...rest] = this.text.trim().split(/\s+/);
    const command = this.find(name);
    if (!command) {
      const known = this.commands.map((c) => `:${c.name}`).join(' ');
      return { error: name === '' ? `type a command: ${known}` : `unknown command ":${name}": try ${known}` };
    }
    if (rest.length > (command.arg ? 1 : 0)) return { error: `:${command.name} takes ${command.arg ? `one ${command.arg}` : 'no argument'}` };
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
