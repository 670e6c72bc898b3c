import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './procs.js';

/**
 * A real server program a test starts on loopback (node_exporter, Prometheus): its output kept,
 * ready once `readyUrl` answers 2xx, killed at stop.
 */
export class HttpProc {
  output = '';
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => child.on('exit', () => res()));
  }

  static async start(
    what: string,
    command: string,
    args: string[],
    readyUrl: string,
    opts: { timeoutMs: number; everyMs: number },
  ): Promise<HttpProc> {
    const proc = new HttpProc(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      await waitFor(
        () => `${what} (output so far:\n${proc.output.slice(-2000)})`,
        async () => (await fetch(readyUrl)).ok || undefined,
        opts.timeoutMs,
        opts.everyMs,
      );
    } catch (err) {
      await proc.stop();
      throw err;
    }
    return proc;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
