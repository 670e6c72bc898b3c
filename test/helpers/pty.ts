// The real `yard` in a real pseudo-terminal: node-pty runs it, @xterm/headless plays the
// terminal emulator, and the screen is read back the way an operator would see it.
import xterm from '@xterm/headless';
import pty from 'node-pty';
import { YARD, waitFor } from './procs.js';

export interface PtyOptions {
  cols?: number;
  rows?: number;
  env?: NodeJS.ProcessEnv;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class PtyYard {
  readonly terminal: xterm.Terminal;
  readonly proc: pty.IPty;
  /** Everything yard wrote, raw (escape sequences included). */
  output = '';
  exitCode: number | undefined;
  readonly exited: Promise<number>;

  constructor(args: string[], { cols = 120, rows = 40, env = {} }: PtyOptions = {}) {
    this.terminal = new xterm.Terminal({ cols, rows, allowProposedApi: true });
    this.proc = pty.spawn(process.execPath, [YARD, ...args], {
      name: 'xterm-256color',
      cols,
      rows,
      env: { ...process.env, TERM: 'xterm-256color', LC_ALL: 'C.UTF-8', ...env },
    });
    this.proc.onData((data) => {
      this.output += data;
      this.terminal.write(data);
    });
    this.exited = new Promise((resolve) =>
      this.proc.onExit(({ exitCode }) => {
        this.exitCode = exitCode;
        resolve(exitCode);
      }),
    );
  }

  /** The screen as text, one line per row, trailing blanks trimmed. */
  screen(): string {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.terminal.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  /** Resolves with the screen once it matches `re`. */
  waitForScreen(re: RegExp, timeoutMs = 15_000): Promise<string> {
    return waitFor(
      () => `the screen to match ${re}; it shows:\n${this.screen()}`,
      () => {
        const text = this.screen();
        if (re.test(text)) return text;
        if (this.exitCode !== undefined) throw new Error(`yard exited with ${this.exitCode}; its screen:\n${text}`);
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Types keys one at a time, as a person would (blessed reads "\x1bj" as Meta-j). */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) {
      this.proc.write(key);
      await pause(50);
    }
  }

  /** SIGTERM, then SIGKILL if it does not exit; the emulator is disposed either way. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exitCode === undefined) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.exitCode === undefined && this.proc.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.terminal.dispose();
  }
}
