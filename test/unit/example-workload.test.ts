import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

// The example in examples/ is run as the agent would run it: a process with
// SWITCHYARD_STATE_DIR, a checkpoint signal, and SWITCHYARD_RESTORE=1 to resume.
const COUNTER = resolve(import.meta.dirname, '../../examples/checkpoint-counter.mjs');

interface State {
  format: string;
  n: number;
  results: number;
  sha256: string;
  primes: number[];
  pad: { file: string; bytes: number; sha256: string } | null;
}

class Counter {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [COUNTER], {
      env: { ...process.env, COUNTER_RATE: '5000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => this.child.on('exit', (code) => res(code)));
  }

  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`no ${re} in the counter's output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const running: Counter[] = [];
const dirs: string[] = [];

function start(env: NodeJS.ProcessEnv): Counter {
  const c = new Counter(env);
  running.push(c);
  return c;
}

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'yard-counter-'));
  dirs.push(d);
  return d;
}

const readState = (dir: string): State => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as State;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

afterEach(() => {
  for (const c of running.splice(0)) if (c.child.exitCode === null) c.child.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('examples/checkpoint-counter.mjs', () => {
  it('is executable with a shebang', () => {
    expect(readFileSync(COUNTER, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(COUNTER).mode & 0o111).not.toBe(0);
  });

  it('checkpoints on SIGUSR1, then resumes from exactly that state with SWITCHYARD_RESTORE=1', async () => {
    const dir = stateDir();
    const first = start({ SWITCHYARD_STATE_DIR: dir });
    await first.waitFor(/progress n=\d+ results=\d+/);
    first.child.kill('SIGUSR1');
    expect(await first.exited).toBe(0);
    expect(first.output).toMatch(/checkpoint at n=\d+ \(results \d+, sha256 [0-9a-f]{12}…\) saved to .*state\.json/);

    const state = readState(dir);
    expect(state.format).toBe('checkpoint-counter/1');
    expect(state.n).toBeGreaterThan(2);
    expect(state.results).toBe(state.primes.length);
    expect(state.sha256).toBe(sha256(JSON.stringify(state.primes)));
    expect(state.primes.slice(0, 6)).toEqual([2, 3, 5, 7, 11, 13]);
    expect(state.primes.at(-1)!).toBeLessThan(state.n);
    expect(state.pad).toBeNull();

    const second = start({ SWITCHYARD_STATE_DIR: dir, SWITCHYARD_RESTORE: '1' });
    await second.waitFor(
      new RegExp(`resumed at n=${state.n} \\(results ${state.results}, sha256 ${state.sha256.slice(0, 12)}…\\)`),
    );
    const progress = await second.waitFor(/progress n=(\d+) results=(\d+)/);
    expect(Number(progress[1])).toBeGreaterThan(state.n);
    second.child.kill('SIGUSR1');
    expect(await second.exited).toBe(0);

    const later = readState(dir);
    expect(later.n).toBeGreaterThan(state.n);
    // It carried on from the saved primes, not from scratch.
    expect(later.primes.slice(0, state.primes.length)).toEqual(state.primes);
    expect(later.sha256).toBe(sha256(JSON.stringify(later.primes)));
  });

  it('refuses a checkpoint whose results do not match their checksum, saying why', async () => {
    const dir = stateDir();
    const first = start({ SWITCHYARD_STATE_DIR: dir });
    await first.waitFor(/progress n=/);
    first.child.kill('SIGUSR1');
    expect(await first.exited).toBe(0);
    const state = readState(dir);
    const tampered = [...state.primes];
    tampered[tampered.length - 1]! += 2;
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ...state, primes: tampered }));

    const restored = start({ SWITCHYARD_STATE_DIR: dir, SWITCHYARD_RESTORE: '1' });
    expect(await restored.exited).toBe(2);
    expect(restored.output).toMatch(
      /checkpoint .*state\.json fails its checks: its results hash to sha256 [0-9a-f]{12}… but it records [0-9a-f]{12}…; not resuming from it/,
    );
  });

  it('says so when asked to restore with no checkpoint, or run without a state dir', async () => {
    const dir = stateDir();
    const restored = start({ SWITCHYARD_STATE_DIR: dir, SWITCHYARD_RESTORE: '1' });
    expect(await restored.exited).toBe(2);
    expect(restored.output).toMatch(/SWITCHYARD_RESTORE=1 but there is no checkpoint at .*state\.json/);

    const bare = start({ SWITCHYARD_STATE_DIR: '' });
    expect(await bare.exited).toBe(2);
    expect(bare.output).toMatch(/SWITCHYARD_STATE_DIR is not set/);
  });

  it('checkpoints on $SWITCHYARD_CHECKPOINT_SIGNAL and pads the state with verified deterministic data', async () => {
    const dir = stateDir();
    const first = start({ SWITCHYARD_STATE_DIR: dir, SWITCHYARD_CHECKPOINT_SIGNAL: 'SIGUSR2', COUNTER_STATE_MB: '2' });
    await first.waitFor(/SIGUSR2 saves to/);
    first.child.kill('SIGUSR2');
    expect(await first.exited).toBe(0);
    const state = readState(dir);
    const pad = readFileSync(join(dir, 'pad.bin'));
    expect(state.pad).toEqual({ file: 'pad.bin', bytes: 2 * 2 ** 20, sha256: sha256(pad) });

    // Deterministic: the next checkpoint writes the same bytes.
    const again = start({
      SWITCHYARD_STATE_DIR: dir,
      SWITCHYARD_RESTORE: '1',
      SWITCHYARD_CHECKPOINT_SIGNAL: 'SIGUSR2',
      COUNTER_STATE_MB: '2',
    });
    await again.waitFor(/resumed at n=/);
    again.child.kill('SIGUSR2');
    expect(await again.exited).toBe(0);
    expect(readState(dir).pad!.sha256).toBe(state.pad!.sha256);

    pad[1000] = pad[1000]! ^ 0xff;
    writeFileSync(join(dir, 'pad.bin'), pad);
    const corrupt = start({ SWITCHYARD_STATE_DIR: dir, SWITCHYARD_RESTORE: '1' });
    expect(await corrupt.exited).toBe(2);
    expect(corrupt.output).toMatch(/pad\.bin hashes to sha256 [0-9a-f]{12}… but it records/);
  });

  it('stops on SIGTERM without touching the last checkpoint', async () => {
    const dir = stateDir();
    const c = start({ SWITCHYARD_STATE_DIR: dir });
    await c.waitFor(/started at/);
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(c.output).toMatch(/stopping at n=\d+ \(results \d+\) without a checkpoint/);
    expect(() => statSync(join(dir, 'state.json'))).toThrow();
  });
});
