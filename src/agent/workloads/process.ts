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
  /**
   * Files the workload must not read (the agent's key, a local controller's CA key and socket):
   * in a mount namespace of its own, each is covered by /dev/null before the command starts.
   * Needs root; empty: the command runs as given.
   */
  hide?: readonly string[];
}

/**
 * Covers each path given before `--` with /dev/null, then execs what follows: the pid stays the
 * workload's. A path that cannot be covered stops the start (fail closed), naming it.
 */
const HIDE_SCRIPT =
  'while [ "$1" != -- ]; do if [ -e "$1" ]; then mount --bind /dev/null "$1" || { echo "switchyard: cannot hide $1 from this workload" >&2; exit 126; }; fi; shift; done; shift; exec "$@"';

/** The command line that runs `command` with `hide` covered (unshare and sh exec in turn, so the pid is the workload's). */
function hidingCommand(command: string, args: readonly string[], hide: readonly string[]): [string, string[]] {
  if (hide.length === 0) return [command, [...args]];
  return [
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      '/bin/sh',
      '-c',
      HIDE_SCRIPT,
      'switchyard-hide',
      ...hide,
      '--',
      command,
      ...args,
    ],
  ];
}

const SIGNAL_NAMES = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));

export class WorkloadProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  private readonly pty: pty.IPty;
  private done = false;

  constructor(opts: SpawnOptions, onData: (data: Buffer) => void) {
    const [command, args] = hidingCommand(opts.command, opts.args, opts.hide ?? []);
    this.pty = pty.spawn(command, args, {
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
