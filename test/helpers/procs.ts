import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built CLI: integration tests run the real `yard`, as a user would. */
export const YARD = resolve(import.meta.dirname, '../../dist/src/cli/main.js');
export const FAKE_NVIDIA_SMI = resolve(import.meta.dirname, '../fixtures/bin/nvidia-smi');

export function assertBuilt(): void {
  if (!existsSync(YARD)) throw new Error(`${YARD} is missing: run \`npm run build\` (npm test does)`);
}

const made: string[] = [];

/** A new directory under the run's temporary directory, removed when the test file ends. */
export function tempDir(prefix = 'yard-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes what tempDir made in this file (test/setup-cleanup.ts calls it after the file's own hooks). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** Thrown by a waitFor probe to end the wait at once: what it waits for can no longer happen (its process exited). */
class WaitEnded extends Error {}

export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      if (err instanceof WaitEnded) throw err;
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}${last ? `: ${String(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A running `yard …` process with its output kept for assertions. */
export class YardProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  /** Exited and its output all read (its pipes closed): no more output can come. */
  private done = false;

  /** `wrap`: a prefix to run it under, e.g. `ip netns exec NS` (which execs, so the pid is yard's). */
  constructor(args: string[], env: NodeJS.ProcessEnv = {}, wrap: string[] = []) {
    const [cmd, ...pre] = wrap.length ? wrap : [process.execPath];
    const argv = wrap.length ? [...pre, process.execPath, YARD, ...args] : [YARD, ...args];
    this.child = spawn(cmd!, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => this.child.on('exit', (code) => res(code)));
    this.child.on('close', () => (this.done = true));
  }

  waitForOutput(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return waitFor(
      () => `output matching ${re} from yard (output so far:\n${this.output.slice(-2000)})`,
      () => {
        const m = this.output.match(re);
        if (m) return m;
        if (this.done)
          throw new WaitEnded(
            `yard exited with ${this.child.exitCode ?? this.child.signalCode} before printing ${re}:\n${this.output.slice(-2000)}`,
          );
        return undefined;
      },
      timeoutMs,
    );
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }

  /** Stops it as an operator would (SIGTERM: an agent stops its workloads first), SIGKILL if it hangs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs `yard …` to completion. */
export async function runYard(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [YARD, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`yard ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    });
  });
}

/** Starts a controller on a fixed port with short timings for tests. */
export function startControllerProc(
  dataDir: string,
  port: number,
  extra: string[] = [],
  host = '127.0.0.1',
  wrap: string[] = [],
): YardProcess {
  return new YardProcess(
    [
      'controller',
      '--data-dir',
      dataDir,
      '--listen',
      `${host}:${port}`,
      '--heartbeat',
      '200ms',
      '--grace',
      '2s',
      ...extra,
    ],
    {},
    wrap,
  );
}

/** `--token-file` for an agent joining the controller whose data dir is `ctlDir` (its join token is written at its start). */
export function joinArgs(ctlDir: string): string[] {
  return ['--token-file', join(ctlDir, 'join-token')];
}

/** The same for an in-process controller: its join token, in a file of its own. */
export function joinArgsFor(joinToken: string): string[] {
  const file = join(tempDir('yard-join-'), 'token');
  writeFileSync(file, joinToken + '\n', { mode: 0o600 });
  return ['--token-file', file];
}

export function startAgentProc(
  controller: string,
  dataDir: string,
  extra: string[] = [],
  wrap: string[] = [],
): YardProcess {
  return new YardProcess(
    ['agent', '--controller', controller, '--data-dir', dataDir, '--interval', '250ms', ...extra],
    {},
    wrap,
  );
}
