// One run of a workload: its program in a pseudo-terminal. The pty makes it the leader of
// its own session and process group, so signals can reach everything it started.
import { constants as osConstants } from 'node:os';
import pty from 'node-pty';

export interface ProcessExit {
  exitCode: number;
  /** The signal that ended it ("SIGKILL"), or '' when it exited on its own. */
  signal: string;
}

export interface SpawnOptions {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols?: number;
  rows?: number;
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));

export class WorkloadProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  private readonly pty: pty.IPty;
  private done = false;

  constructor(opts: SpawnOptions, onData: (data: Buffer) => void) {
    this.pty = pty.spawn(opts.command, opts.args, {
      name: 'xterm-256color',
      cols: opts.cols ?? 120,
      rows: opts.rows ?? 40,
      cwd: opts.cwd,
      env: opts.env,
      encoding: null,
    });
    this.pid = this.pty.pid;
    // With encoding null node-pty hands over Buffers; its typings still say string.
    this.pty.onData((d: string | Buffer) => onData(typeof d === 'string' ? Buffer.from(d) : d));
    this.exited = new Promise((resolve) => {
      this.pty.onExit(({ exitCode, signal }) => {
        this.done = true;
        resolve({ exitCode, signal: signal ? (SIGNAL_NAMES.get(signal) ?? `signal ${signal}`) : '' });
      });
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** Sends `signal` to the whole process group, or to the workload's own process only. */
  signal(signal: NodeJS.Signals, scope: 'group' | 'process' = 'group'): void {
    if (this.done) return;
    // Just after the fork the child may not lead its group yet: then only it can be signalled.
    if (scope === 'group' && kill(-this.pid, signal)) return;
    kill(this.pid, signal);
  }

  write(data: Buffer | string): void {
    if (!this.done) this.pty.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.done) this.pty.resize(cols, rows);
  }
}

/** process.kill, false when no such process (group) exists. */
function kill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
