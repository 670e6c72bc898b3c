// Starts nvidia-smi processes and keeps count of them. A hung GPU driver leaves nvidia-smi
// stuck in the kernel, where signals may not end it: one that does not answer in time is sent
// SIGTERM, then SIGKILL, and stays counted until it really exits; while it lives no other
// nvidia-smi is started. A wedged driver costs one process, never one per retry.
import { spawn, type ChildProcess } from 'node:child_process';

export type RunResult = { ok: true; stdout: string } | { ok: false; absent: boolean; stuck: boolean; message: string };

/** An nvidia-smi that stopped answering and has not exited yet. */
export interface Stuck {
  pid: number;
  /** When it was declared stuck (Date.now()). */
  sinceMs: number;
  /** Why: what it did not do in time. */
  why: string;
}

export interface RunnerOptions {
  bin: string;
  /** How long a query may take, and a loop may stay silent, before it counts as stuck. */
  answerTimeoutMs: number;
  /** Called once when a child is declared stuck. */
  onStuck: (s: Stuck) => void;
  /** Called when the stuck child finally exits: nvidia-smi may be started again. */
  onUnstuck: (s: Stuck) => void;
}

const MAX_OUTPUT = 1 << 20;
/** SIGTERM first (a wrapper may clean up), SIGKILL this long after. */
const KILL_AFTER_MS = 2_000;

export class NvidiaSmiRunner {
  private readonly alive = new Set<ChildProcess>();
  private stuckChild?: { proc: ChildProcess; info: Stuck };

  constructor(private readonly opts: RunnerOptions) {}

  /** The child that stopped answering and is still alive, if any. */
  stuck(): Stuck | undefined {
    return this.stuckChild?.info;
  }

  /** nvidia-smi processes started and not yet exited. */
  aliveCount(): number {
    return this.alive.size;
  }

  /** One query, answered within answerTimeoutMs or reported stuck; refused while one is stuck. */
  run(args: string[]): Promise<RunResult> {
    return new Promise((resolve) => {
      const proc = this.start(args);
      if (!proc) return resolve({ ok: false, absent: false, stuck: true, message: this.stuckMessage() });
      let stdout = '';
      let stderr = '';
      let settled = false;
      const settle = (r: RunResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout = (stdout + d).slice(0, MAX_OUTPUT)));
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-500)));
      const timer = setTimeout(() => {
        this.wedge(proc, `did not answer \`${args.join(' ')}\` within ${this.opts.answerTimeoutMs / 1000}s`);
        settle({ ok: false, absent: false, stuck: true, message: this.stuckMessage() });
      }, this.opts.answerTimeoutMs);
      timer.unref();
      proc.once('error', (err: NodeJS.ErrnoException) =>
        settle({ ok: false, absent: err.code === 'ENOENT', stuck: false, message: err.message }),
      );
      proc.once('close', (code, signal) => {
        if (code === 0) return settle({ ok: true, stdout });
        const detail = (stderr || stdout).trim().split('\n')[0] || `exited (${signal ?? `code ${code}`})`;
        settle({ ok: false, absent: false, stuck: false, message: detail });
      });
    });
  }

  /** A long-running child whose output the caller reads; undefined while one is stuck. */
  start(args: string[]): ChildProcess | undefined {
    if (this.stuckChild) return undefined;
    // Its own process group, so a wrapper script's children are signalled with it.
    const proc = spawn(this.opts.bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.alive.add(proc);
    const gone = () => {
      this.alive.delete(proc);
      const stuck = this.stuckChild;
      if (stuck?.proc !== proc) return;
      this.stuckChild = undefined;
      this.opts.onUnstuck(stuck.info);
    };
    proc.once('exit', gone);
    proc.once('error', gone); // it never started
    return proc;
  }

  /** Declares `proc` stuck: TERM now, KILL later, counted until it exits. */
  wedge(proc: ChildProcess, why: string): void {
    if (!this.alive.has(proc) || this.stuckChild) return;
    const info: Stuck = { pid: proc.pid ?? 0, sinceMs: Date.now(), why };
    this.stuckChild = { proc, info };
    signalGroup(proc, 'SIGTERM');
    setTimeout(() => this.alive.has(proc) && signalGroup(proc, 'SIGKILL'), KILL_AFTER_MS).unref();
    this.opts.onStuck(info);
  }

  /** Ends every child: TERM, then KILL; waits at most `graceMs` + 1 s (a process stuck in the driver may outlive both). */
  async stopAll(graceMs = KILL_AFTER_MS): Promise<void> {
    const procs = [...this.alive];
    if (procs.length === 0) return;
    const exited = Promise.all(
      procs.map((p) => new Promise<void>((res) => (this.alive.has(p) ? p.once('exit', () => res()) : res()))),
    );
    for (const p of procs) signalGroup(p, 'SIGTERM');
    const killer = setTimeout(() => {
      for (const p of procs) if (this.alive.has(p)) signalGroup(p, 'SIGKILL');
    }, graceMs);
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((res) => (bound = setTimeout(res, graceMs + 1_000)))]);
    clearTimeout(killer);
    clearTimeout(bound);
    // Whatever is left must not keep this process alive.
    for (const p of procs) {
      if (!this.alive.has(p)) continue;
      p.stdout?.destroy();
      p.stderr?.destroy();
      p.unref();
    }
  }

  private stuckMessage(): string {
    const s = this.stuckChild?.info;
    return s ? `nvidia-smi (pid ${s.pid}) ${s.why} and has not exited` : 'nvidia-smi is stuck';
  }
}

function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, signal);
  } catch {
    proc.kill(signal); // the group is gone: the child alone, if it is still there
  }
}
