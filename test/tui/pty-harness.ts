// Runs the built `yard` (or a tmux client) in a real pseudo-terminal (node-pty) and reads what
// a terminal would show (@xterm/headless): the same bytes an operator's terminal gets, rendered
// by a real terminal emulator, plus the raw output for tests of the escape codes themselves.
// Unlike test/helpers/pty.ts it scrubs the host's display variables (NO_COLOR, TERM, locale,
// config) and can resize the terminal and read the process's memory.
import xterm from '@xterm/headless';
import { readFileSync } from 'node:fs';
import pty from 'node-pty';
import { YARD } from '../helpers/procs.js';

export interface PtyOptions {
  cols?: number;
  rows?: number;
  /** Added to a clean environment: TERM=xterm-256color, a UTF-8 locale, no NO_COLOR, no user config. */
  env?: Record<string, string>;
  /** Run this instead of `node yard ARGS` (e.g. a tmux client): ARGS are appended. */
  command?: string[];
}

/** Environment variables the host may have set that would change what the dashboard draws. */
const HOST_DISPLAY_VARS = ['NO_COLOR', 'LC_ALL', 'LC_CTYPE', 'LANG', 'TERM', 'COLORTERM', 'TMUX', 'XDG_CONFIG_HOME'];

export class PtyScreen {
  readonly proc: pty.IPty;
  readonly term: InstanceType<typeof xterm.Terminal>;
  /** Every byte the dashboard wrote, as text. */
  raw = '';
  exitCode: number | undefined;
  readonly exited: Promise<number>;

  constructor(args: string[], opts: PtyOptions = {}) {
    const cols = opts.cols ?? 100;
    const rows = opts.rows ?? 30;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !HOST_DISPLAY_VARS.includes(k)) env[k] = v;
    Object.assign(env, { TERM: 'xterm-256color', LANG: 'C.UTF-8', XDG_CONFIG_HOME: '/nonexistent' }, opts.env ?? {});
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
    const [file, ...pre] = opts.command ?? [process.execPath, YARD];
    this.proc = pty.spawn(file!, [...pre, ...args], { name: env.TERM!, cols, rows, env });
    this.proc.onData((data) => {
      this.raw += data;
      this.term.write(data);
    });
    this.exited = new Promise((resolve) => this.proc.onExit(({ exitCode }) => {
      this.exitCode = exitCode;
      resolve(exitCode);
    }));
  }

  /** The screen as the terminal shows it, one line per row, trailing blanks trimmed. */
  text(): string {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.term.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  /** Resolves with the screen once it shows `what` (the terminal has parsed everything written so far). */
  async waitFor(what: string | RegExp | ((text: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const shows = (text: string): boolean => (typeof what === 'function' ? what(text) : typeof what === 'string' ? text.includes(what) : what.test(text));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await new Promise<void>((resolve) => this.term.write('', resolve));
      const text = this.text();
      if (shows(text)) return text;
      if (this.exitCode !== undefined) throw new Error(`yard exited (${this.exitCode}) before the screen showed ${String(what)}; output:\n${this.raw.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`the screen never showed ${String(what)}; it shows:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  write(keys: string): void {
    this.proc.write(keys);
  }

  resize(cols: number, rows: number): void {
    this.proc.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  /** The dashboard process's resident memory, in bytes. */
  rss(): number {
    const status = readFileSync(`/proc/${this.proc.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  async stop(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.exitCode === undefined && this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** SGR parameter lists in `raw` that set a colour (30-38, 40-48, 90-107; not the resets 39 and 49). */
export function colourCodes(raw: string): string[] {
  const found: string[] = [];
  for (const [, params] of raw.matchAll(/\x1b\[([\d;]*)m/g)) {
    const ps = params!.split(';').map(Number);
    if (ps.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 107))) found.push(params!);
  }
  return found;
}
