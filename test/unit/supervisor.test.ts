// The supervisor against real processes in real ptys: small sh scripts written per test.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { list, type ReadEntry } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/agent/workloads/supervisor.js';
import { YardError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { RestartPolicy, WorkloadState, type Workload, type WorkloadSpec } from '../../src/core/workload.js';
import { tempDir, waitFor } from '../helpers/procs.js';
import { workloadSpec } from '../helpers/specs.js';

const S = WorkloadState;
const MB = 1024 * 1024;

let root: string;
let dataDir: string;
const open: Supervisor[] = [];

async function supervisor(extra: { outputBufferBytes?: number } = {}): Promise<Supervisor> {
  const sup = await Supervisor.open({ dataDir, serverId: 'srv-test', log: silentLogger, ...extra });
  open.push(sup);
  return sup;
}

/** An executable sh script in the test's temp dir. */
function script(name: string, body: string): string {
  const file = join(root, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const spec = workloadSpec;

function state(sup: Supervisor, name: string, want: WorkloadState): Promise<Workload> {
  return waitFor(
    `${name} to be ${want} (now ${JSON.stringify(sup.get(name)?.state)} ${sup.get(name)?.message})`,
    () => {
      const w = sup.get(name);
      return w?.state === want ? w : undefined;
    },
  );
}

function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<YardError> {
  const err = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(YardError);
  return err as YardError;
}

async function archiveEntries(file: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  await list({
    file,
    onReadEntry: (e: ReadEntry) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => entries.set(e.path, Buffer.concat(chunks).toString()));
    },
  });
  return entries;
}

// Saves its step on SIGUSR1 and exits 0; on restore, starts from the saved step.
const CHECKPOINTING = `
step=0
if [ "$SWITCHYARD_RESTORE" = 1 ]; then step=$(cat "$SWITCHYARD_STATE_DIR/step"); echo "restored at $step"; fi
echo "restore=$SWITCHYARD_RESTORE step=$step" > "$SWITCHYARD_STATE_DIR/../seen"
trap 'echo "$step" > "$SWITCHYARD_STATE_DIR/step"; echo saved; exit 0' USR1
echo ready
while :; do step=$((step+1)); sleep 0.05; done`;

beforeEach(() => {
  root = tempDir('yard-sup-');
  dataDir = join(root, 'data');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(root, { recursive: true, force: true });
});

describe('Supervisor', () => {
  it('starts a workload in a pty with its state dir, and captures its output', async () => {
    const sup = await supervisor();
    const sh = script(
      'env.sh',
      'env > "$SWITCHYARD_STATE_DIR/env.txt"; pwd > "$SWITCHYARD_STATE_DIR/pwd.txt"; echo "hello from $SWITCHYARD_WORKLOAD"; [ -t 0 ] && echo tty; exec sleep 30',
    );
    const changes: Workload[] = [];
    sup.on('change', (w) => changes.push(w));
    const w = await sup.start(spec('hello', sh, { env: { GREETING: 'hi' } }));
    expect(w).toMatchObject({
      state: S.WORKLOAD_STATE_RUNNING,
      serverId: 'srv-test',
      restored: false,
      stateDir: join(dataDir, 'workloads/hello/state'),
    });
    expect(w.pid).toBeGreaterThan(0);
    await waitFor('output', () => sup.output('hello').toString().includes('tty'));
    expect(sup.output('hello').toString()).toContain('hello from hello');
    const env = readFileSync(join(w.stateDir, 'env.txt'), 'utf8');
    expect(env).toContain(`SWITCHYARD_STATE_DIR=${w.stateDir}\n`);
    expect(env).toContain('GREETING=hi\n');
    expect(env).toContain('TERM=xterm-256color\n');
    expect(env).not.toContain('SWITCHYARD_RESTORE');
    expect(readFileSync(join(w.stateDir, 'pwd.txt'), 'utf8').trim()).toBe(w.stateDir);
    expect(changes.some((c) => c.state === S.WORKLOAD_STATE_RUNNING)).toBe(true);
    expect(sup.list().map((x) => x.spec?.name)).toEqual(['hello']);
    expect((await rejection(sup.start(spec('hello', sh)))).code).toBe('ALREADY_EXISTS');
    await waitFor('cpu and rss', () => sup.get('hello')?.rssBytes, 5000);
  });

  it('reports the size of its state dir (what a move needs free on the target)', async () => {
    const sup = await supervisor();
    const sh = script(
      'sized.sh',
      'head -c 3145728 /dev/zero > "$SWITCHYARD_STATE_DIR/weights.bin"; mkdir -p "$SWITCHYARD_STATE_DIR/d"; printf 12345 > "$SWITCHYARD_STATE_DIR/d/x"; echo written; exec sleep 30',
    );
    await sup.start(spec('sized', sh));
    await waitFor('written', () => sup.output('sized').toString().includes('written'));
    const w = await waitFor(
      'its state size',
      () => (sup.get('sized')?.stateBytes ? sup.get('sized') : undefined),
      8000,
    );
    expect(w.stateBytes).toBe(3 * MB + 5);
  });

  it('restarts a failing workload with backoff (on-failure), and stop() cancels the restart', async () => {
    const sup = await supervisor();
    const seen = new Set<WorkloadState>();
    sup.on('change', (w) => seen.add(w.state));
    await sup.start(
      spec('crashy', script('crash.sh', 'echo crashing; exit 1'), { restart: RestartPolicy.RESTART_POLICY_ON_FAILURE }),
    );
    const restarted = await waitFor('a restart', () =>
      (sup.get('crashy')?.restarts ?? 0) >= 1 ? sup.get('crashy') : undefined,
    );
    expect(seen.has(S.WORKLOAD_STATE_BACKOFF)).toBe(true);
    expect(restarted.exitCode === 1 || restarted.state === S.WORKLOAD_STATE_RUNNING).toBe(true);
    const backoff = await state(sup, 'crashy', S.WORKLOAD_STATE_BACKOFF);
    expect(backoff.message).toMatch(/^exited 1, restarting in \d+s$/);
    const stopped = await sup.stop('crashy');
    expect(stopped.state).toBe(S.WORKLOAD_STATE_EXITED);
    const restarts = stopped.restarts;
    await new Promise((r) => setTimeout(r, 1500));
    expect(sup.get('crashy')).toMatchObject({ state: S.WORKLOAD_STATE_EXITED, restarts });
  });

  it('leaves a workload with policy never EXITED with its exit code', async () => {
    const sup = await supervisor();
    const exits: Workload[] = [];
    sup.on('exit', (_name, w) => exits.push(w));
    await sup.start(spec('once', script('once.sh', 'exit 3')));
    const w = await state(sup, 'once', S.WORKLOAD_STATE_EXITED);
    expect(w).toMatchObject({ exitCode: 3, exitSignal: '', restarts: 0, message: 'exited 3', pid: 0 });
    expect(exits).toHaveLength(1);
  });

  it('stops a workload (SIGKILL for one that ignores SIGTERM) without restarting it, and removes it', async () => {
    const sup = await supervisor();
    const stubborn = script('stubborn.sh', "trap '' TERM; echo up; while :; do sleep 0.05; done");
    await sup.start(spec('stubborn', stubborn, { restart: RestartPolicy.RESTART_POLICY_ALWAYS }));
    await waitFor('up', () => sup.output('stubborn').toString().includes('up'));
    const w = await sup.stop('stubborn', { kill: true });
    expect(w).toMatchObject({ state: S.WORKLOAD_STATE_EXITED, exitSignal: 'SIGKILL' });
    expect(w.message).toMatch(/^stopped/);

    await sup.start(
      spec('polite', script('polite.sh', 'echo up; exec sleep 30'), { restart: RestartPolicy.RESTART_POLICY_ALWAYS }),
    );
    const removed: string[] = [];
    sup.on('removed', (n) => removed.push(n));
    const gone = await sup.stop('polite', { remove: true });
    expect(gone.exitSignal).toBe('SIGTERM');
    expect(removed).toEqual(['polite']);
    expect(sup.get('polite')).toBeUndefined();
    expect(existsSync(join(dataDir, 'workloads/polite'))).toBe(false);
    expect(sup.get('stubborn')?.state).toBe(S.WORKLOAD_STATE_EXITED);
  });

  it('pauses and resumes the process group (state T in /proc)', async () => {
    const sup = await supervisor();
    // One process: a shell waiting on a vforked child shows D, not T, while its group is stopped.
    const w = await sup.start(spec('pausable', script('sleeper.sh', 'exec sleep 30')));
    expect(sup.pause('pausable').state).toBe(S.WORKLOAD_STATE_PAUSED);
    await waitFor('stopped process', () => procState(w.pid) === 'T');
    expect(sup.resume('pausable').state).toBe(S.WORKLOAD_STATE_RUNNING);
    await waitFor('running process', () => procState(w.pid) !== 'T');
    expect(sup.get('pausable')?.pid).toBe(w.pid);
  });

  it('checkpoints cooperatively: signal, save, exit 0 → CHECKPOINTED with the state in the archive', async () => {
    const sup = await supervisor();
    await sup.start(
      spec('trainer', script('trainer.sh', CHECKPOINTING), { restart: RestartPolicy.RESTART_POLICY_ALWAYS }),
    );
    await waitFor('ready', () => sup.output('trainer').toString().includes('ready'));
    const archiveFile = join(root, 'trainer.tar');
    const cp = await sup.checkpoint('trainer', { freeze: false, maxBytes: MB, archiveFile });
    expect(cp.size).toBeGreaterThan(0);
    expect(cp.checkpointMs).toBeGreaterThanOrEqual(0);
    expect(sup.get('trainer')).toMatchObject({ state: S.WORKLOAD_STATE_CHECKPOINTED, exitCode: 0 });
    const entries = await archiveEntries(archiveFile);
    expect(Number(entries.get('./step'))).toBeGreaterThan(0);
    // Checkpointed is final: the always policy does not bring it back.
    await new Promise((r) => setTimeout(r, 1200));
    expect(sup.get('trainer')?.state).toBe(S.WORKLOAD_STATE_CHECKPOINTED);
  });

  it('gives CHECKPOINT_TIMEOUT and leaves the workload running, same pid, when it ignores the signal', async () => {
    const sup = await supervisor();
    const w = await sup.start(
      spec('deaf', script('deaf.sh', "trap '' USR1; echo ready; while :; do sleep 0.05; done"), {
        checkpointTimeoutMs: 500,
      }),
    );
    await waitFor('ready', () => sup.output('deaf').toString().includes('ready'));
    const err = await rejection(
      sup.checkpoint('deaf', { freeze: false, maxBytes: MB, archiveFile: join(root, 'deaf.tar') }),
    );
    expect(err.code).toBe('CHECKPOINT_TIMEOUT');
    expect(err.message).toContain('deaf');
    expect(sup.get('deaf')).toMatchObject({
      state: S.WORKLOAD_STATE_RUNNING,
      pid: w.pid,
      message: 'checkpoint timed out after 500ms',
    });
    expect(existsSync(join(root, 'deaf.tar'))).toBe(false);
  });

  it('gives CHECKPOINT_FAILED when the workload exits non-zero, and applies its restart policy', async () => {
    const sup = await supervisor();
    await sup.start(
      spec('clumsy', script('clumsy.sh', "trap 'exit 2' USR1; echo ready; while :; do sleep 0.05; done"), {
        restart: RestartPolicy.RESTART_POLICY_ON_FAILURE,
      }),
    );
    await waitFor('ready', () => sup.output('clumsy').toString().includes('ready'));
    const err = await rejection(
      sup.checkpoint('clumsy', { freeze: false, maxBytes: MB, archiveFile: join(root, 'clumsy.tar') }),
    );
    expect(err.code).toBe('CHECKPOINT_FAILED');
    expect(err.message).toContain('exited 2');
    await waitFor('a restart', () => sup.get('clumsy')?.restarts === 1);
  });

  it('restarts from its state dir with SWITCHYARD_RESTORE=1 when the checkpoint cannot be packed', async () => {
    const sup = await supervisor();
    const sh = script('hoarder.sh', `head -c 4096 /dev/zero > "$SWITCHYARD_STATE_DIR/blob"\n${CHECKPOINTING}`);
    await sup.start(spec('hoarder', sh));
    await waitFor('ready', () => sup.output('hoarder').toString().includes('ready'));
    const err = await rejection(
      sup.checkpoint('hoarder', { freeze: false, maxBytes: 1024, archiveFile: join(root, 'hoarder.tar') }),
    );
    expect(err.code).toBe('CHECKPOINT_TOO_LARGE');
    const w = await state(sup, 'hoarder', S.WORKLOAD_STATE_RUNNING);
    expect(w).toMatchObject({ restored: true, restarts: 0 });
    expect(w.message).toMatch(/^checkpoint not packed/);
    await waitFor('restored output', () => sup.output('hoarder').toString().includes('restored at'));
    expect(existsSync(join(root, 'hoarder.tar'))).toBe(false);
  });

  it('keeps a frozen workload parked (CHECKPOINTED) across an agent restart, never running it twice', async () => {
    const first = await supervisor();
    await first.start(
      spec('ice', script('ice.sh', 'while :; do sleep 0.05; done'), { restart: RestartPolicy.RESTART_POLICY_ALWAYS }),
    );
    await first.checkpoint('ice', { freeze: true, maxBytes: MB, archiveFile: join(root, 'ice.tar') });
    await first.close();
    const second = await supervisor();
    expect(second.get('ice')).toMatchObject({ state: S.WORKLOAD_STATE_CHECKPOINTED, pid: 0 });
    expect(
      (await second.start(spec('ice', script('ice.sh', 'while :; do sleep 0.05; done')), { restore: true })).restored,
    ).toBe(true);
  });

  it('freezes a workload for migration: SIGSTOP, pack, stays frozen until killed', async () => {
    const sup = await supervisor();
    const w = await sup.start(
      spec('frozen', script('frozen.sh', 'echo 7 > "$SWITCHYARD_STATE_DIR/step"; exec sleep 30')),
    );
    await waitFor('state file', () => existsSync(join(w.stateDir, 'step')));
    const archiveFile = join(root, 'frozen.tar');
    await sup.checkpoint('frozen', { freeze: true, maxBytes: MB, archiveFile });
    expect(sup.get('frozen')).toMatchObject({
      state: S.WORKLOAD_STATE_PAUSED,
      message: 'frozen for migration',
      pid: w.pid,
    });
    expect(procState(w.pid)).toBe('T');
    expect((await archiveEntries(archiveFile)).get('./step')).toBe('7\n');
    expect((await sup.stop('frozen', { kill: true })).state).toBe(S.WORKLOAD_STATE_EXITED);
  });

  it('installs a checkpoint and restores from it with SWITCHYARD_RESTORE=1', async () => {
    const source = await supervisor();
    const sh = script('trainer.sh', CHECKPOINTING);
    await source.start(spec('mover', sh));
    await waitFor('ready', () => source.output('mover').toString().includes('ready'));
    const archiveFile = join(root, 'mover.tar');
    const cp = await source.checkpoint('mover', { freeze: false, maxBytes: MB, archiveFile });
    const saved = readFileSync(join(dataDir, 'workloads/mover/state/step'), 'utf8').trim();

    dataDir = join(root, 'target');
    const target = await supervisor();
    const bad = await rejection(
      target.installCheckpoint(spec('mover', sh), archiveFile, { sha256: 'f'.repeat(64), maxBytes: MB }),
    );
    expect(bad.code).toBe('CHECKSUM_MISMATCH');
    expect(target.get('mover')).toBeUndefined();
    await target.installCheckpoint(spec('mover', sh), archiveFile, { sha256: cp.sha256, maxBytes: MB });
    expect(target.get('mover')?.state).toBe(S.WORKLOAD_STATE_CHECKPOINTED);
    const w = await target.start(spec('mover', sh), { restore: true });
    expect(w.restored).toBe(true);
    await waitFor('restored output', () => target.output('mover').toString().includes(`restored at ${saved}`));
    expect(readFileSync(join(dataDir, 'workloads/mover/seen'), 'utf8').trim()).toBe(`restore=1 step=${saved}`);
    expect(
      (await rejection(target.installCheckpoint(spec('mover', sh), archiveFile, { sha256: cp.sha256, maxBytes: MB })))
        .code,
    ).toBe('ALREADY_EXISTS');
  });

  it('after close(), a reopened supervisor starts the running workload again but not the checkpointed one', async () => {
    const first = await supervisor();
    const runner = await first.start(spec('runner', script('runner.sh', 'echo "run $$"; exec sleep 30')));
    await first.start(spec('parked', script('parked.sh', CHECKPOINTING)));
    await waitFor('ready', () => first.output('parked').toString().includes('ready'));
    await first.checkpoint('parked', { freeze: false, maxBytes: MB, archiveFile: join(root, 'parked.tar') });
    await first.start(spec('done', script('done.sh', 'exit 0')));
    await state(first, 'done', S.WORKLOAD_STATE_EXITED);
    await waitFor('runner output', () => first.output('runner').toString().includes('run'));
    await first.close();
    expect(existsSync(`/proc/${runner.pid}`) && procState(runner.pid) !== 'Z').toBe(false);

    const second = await supervisor();
    const again = await state(second, 'runner', S.WORKLOAD_STATE_RUNNING);
    expect(again.pid).not.toBe(runner.pid);
    expect(second.get('parked')?.state).toBe(S.WORKLOAD_STATE_CHECKPOINTED);
    expect(second.get('done')?.state).toBe(S.WORKLOAD_STATE_EXITED);
    // The output of the first run survived the agent restart.
    expect(second.output('runner').toString()).toContain(`run ${runner.pid}`);
  });

  it('keeps output in a bounded ring and in output.log, and serves a console', async () => {
    const sup = await supervisor({ outputBufferBytes: 1024 });
    const sh = script(
      'chatty.sh',
      'i=0; while [ $i -lt 300 ]; do echo "line $i"; i=$((i+1)); done; echo END; exec cat',
    );
    await sup.start(spec('chatty', sh));
    await waitFor('END', () => sup.output('chatty').toString().includes('END'));
    const out = sup.output('chatty');
    expect(out.length).toBe(1024);
    expect(out.toString()).not.toContain('line 0\r\n');
    expect(sup.output('chatty', 10).length).toBe(10);
    expect(readFileSync(join(dataDir, 'workloads/chatty/output.log'), 'utf8')).toContain('line 0\r\n');

    const got: Buffer[] = [];
    const closed: string[] = [];
    const con = sup.openConsole(
      'chatty',
      (d) => got.push(d),
      (r) => closed.push(r),
    );
    con.resize(100, 30);
    con.write('echo-me\r');
    await waitFor('echoed input', () => Buffer.concat(got).toString().includes('echo-me'));
    await sup.stop('chatty');
    await waitFor('console closed', () => closed[0]);
    expect(closed[0]).toMatch(/chatty stopped/);
  });

  it('rejects invalid specs with errors that name the field', async () => {
    const sup = await supervisor();
    const ok = script('ok.sh', 'exit 0');
    const cases: [Partial<WorkloadSpec>, string][] = [
      [{ name: 'no/slashes' }, 'name'],
      [{ command: ' ' }, 'command'],
      [{ command: join(root, 'missing.sh') }, 'command'],
      [{ checkpointSignal: 'SIGNOPE' }, 'checkpointSignal'],
      [{ checkpointSignal: 'SIGKILL' }, 'checkpointSignal'],
      [{ cwd: join(root, 'nowhere') }, 'cwd'],
    ];
    for (const [bad, field] of cases) {
      const err = await rejection(sup.start({ ...spec('valid-name', ok), ...bad }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.details.field).toBe(field);
      expect(err.message).toContain(field);
    }
    expect(sup.list()).toEqual([]);
    expect((await rejection(() => sup.pause('ghost'))).code).toBe('NOT_FOUND');
  });
});
