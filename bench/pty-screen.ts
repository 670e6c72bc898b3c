// A program in a real pseudo-terminal (node-pty) with a real terminal emulator reading its output
// (@xterm/headless): the screen an operator would see, plus the raw bytes for tests of the escape
// codes themselves. The one harness for the tests (test/helpers/pty.ts runs `yard` in it) and the
// benches; it lives here because the bench build (tsconfig.build.json) compiles src and bench only.
import xterm from '@xterm/headless';
import { readFileSync } from 'node:fs';
import pty from 'node-pty';

/** What a wait looks for on the screen: text it contains, a pattern, or a test of the whole screen. */
export type Shows = string | RegExp | ((text: string) => boolean);

export interface PtyOptions {
  cols?: number;
  rows?: number;
  /** Added to the scrubbed environment (see terminalEnv). */
  env?: Record<string, string>;
  cwd?: string;
  /** Names the program in errors ("yard exited (code 1) before…"). */
  label?: string;
  /** Keep only this many characters of raw output (a bench runs for minutes); all of it if left out. */
  keepRaw?: number;
}

/**
 * Host variables that change what a terminal program draws or where it reads its settings: colour
 * switches, the terminal's name and size, the locale, tmux, XDG dirs, and NODE_ENV (a program run
 * by the tests must not behave as if it were under vitest).
 */
const HOST_VARS =
  /^(NO_COLOR|FORCE_COLOR|TERM|COLORTERM|TMUX|TMUX_PANE|COLUMNS|LINES|LANG|LANGUAGE|LC_\w+|XDG_\w+|NODE_ENV)$/;

/** The host's environment without HOST_VARS, then a 256-colour UTF-8 xterm with no user config, then `extra`. */
function terminalEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !HOST_VARS.test(k)) env[k] = v;
  return { ...env, TERM: 'xterm-256color', LANG: 'C.UTF-8', XDG_CONFIG_HOME: '/nonexistent', ...extra };
}

/** Every pty still open; killed when this process exits, whatever happens. */
const open = new Set<PtyScreen>();
process.on('exit', () => {
  for (const p of open) p.killNow();
});

export class PtyScreen {
  readonly proc: pty.IPty;
  readonly term: InstanceType<typeof xterm.Terminal>;
  readonly pid: number;
  readonly label: string;
  /** What it wrote, escape codes included (the last `keepRaw` characters when that is set). */
  raw = '';
  /** Characters and writes (data events, about one per frame) so far. */
  bytes = 0;
  writes = 0;
  exitCode: number | undefined;
  readonly exited: Promise<number>;

  constructor(file: string, args: string[], opts: PtyOptions = {}) {
    const cols = opts.cols ?? 100;
    const rows = opts.rows ?? 30;
    const env = terminalEnv(opts.env);
    this.label = opts.label ?? file;
    this.term = new xterm.Terminal({ cols, rows, allowProposedApi: true });
    this.proc = pty.spawn(file, args, { name: env.TERM!, cols, rows, env, cwd: opts.cwd });
    this.pid = this.proc.pid;
    open.add(this);
    this.proc.onData((data) => {
      this.bytes += data.length;
      this.writes++;
      this.raw += data;
      if (opts.keepRaw !== undefined && this.raw.length > 2 * opts.keepRaw) this.raw = this.raw.slice(-opts.keepRaw);
      this.term.write(data);
    });
    this.exited = new Promise((resolve) =>
      this.proc.onExit(({ exitCode }) => {
        this.exitCode = exitCode;
        open.delete(this);
        resolve(exitCode);
      }),
    );
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** The screen as the terminal shows it, one line per row, trailing blanks trimmed. */
  text(): string {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.term.rows; y++)
      lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  /**
   * Resolves with the screen once it shows `what`, looking every `everyMs` and at once when the
   * program exits: then it rejects with its exit code, screen and last output instead of waiting
   * out the timeout. `name` says what was awaited in those errors.
   */
  async waitFor(what: Shows, timeoutMs = 15_000, everyMs = 50, name = String(what)): Promise<string> {
    const shows = (text: string): boolean =>
      typeof what === 'function' ? what(text) : typeof what === 'string' ? text.includes(what) : what.test(text);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Let the emulator parse everything written so far.
      await new Promise<void>((resolve) => this.term.write('', resolve));
      const text = this.text();
      if (shows(text)) return text;
      if (!this.running)
        throw new Error(
          `${this.label} exited (code ${this.exitCode}) before the screen showed ${name}; its screen:\n${text}\nits last output: ${JSON.stringify(this.raw.slice(-600))}`,
        );
      if (Date.now() >= deadline)
        throw new Error(`${this.label} did not show ${name} within ${timeoutMs} ms; its screen:\n${text}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, everyMs)))]);
      clearTimeout(timer);
    }
  }

  write(keys: string): void {
    this.proc.write(keys);
  }

  /** Types keys one at a time, as a person would (blessed reads "\x1bj" as Meta-j). */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) {
      this.proc.write(key);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  resize(cols: number, rows: number): void {
    this.proc.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  /** The program's resident memory, in bytes. */
  rss(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; the emulator is disposed either way. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.running) {
      this.signal('SIGTERM');
      const timer = setTimeout(() => this.killNow(), graceMs);
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise<void>((resolve) => (giveUp = setTimeout(resolve, graceMs + 2000)))]);
      clearTimeout(timer);
      clearTimeout(giveUp);
    }
    open.delete(this);
    this.term.dispose();
  }

  killNow(): void {
    if (this.running) this.signal('SIGKILL');
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }
}
