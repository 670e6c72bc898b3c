import { copyFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeForPhase } from '../../src/cli/format-workloads.js';
import { ServerState } from '../../src/core/types.js';
import {
  MigrationStrategy,
  RestartPolicy,
  migrationDone,
  migrationPhases,
  workloadStates,
  type WorkloadSpec,
} from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

const COUNTER = resolve(import.meta.dirname, '../../examples/checkpoint-counter.mjs');
const STORES = resolve(import.meta.dirname, '../fixtures/stores');

/** Saves slowly (2 s) on SIGUSR1, so a controller can be killed while it checkpoints. */
const SLOW_SAVER = [
  'n=0; [ -f "$SWITCHYARD_STATE_DIR/n" ] && n=$(cat "$SWITCHYARD_STATE_DIR/n") && echo "resumed from $n"',
  'trap \'sleep 2; echo $n > "$SWITCHYARD_STATE_DIR/n"; exit 0\' USR1',
  'while :; do n=$((n+1)); sleep 0.1; done',
].join('\n');

function spec(name: string, over: Partial<WorkloadSpec> = {}): WorkloadSpec {
  return {
    name,
    command: process.execPath,
    args: [COUNTER],
    env: {},
    cwd: '',
    labels: {},
    restart: RestartPolicy.RESTART_POLICY_NEVER,
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: 'SIGUSR1',
    checkpointTimeoutMs: 10_000,
    ports: [],
    ...over,
  };
}

/** Every data dir in this suite is given relative to the test's cwd, as an operator may type it. */
const relDir = (prefix: string) => relative(process.cwd(), tempDir(prefix));

/**
 * `yard migrate` as a script runs it (no terminal), against real agents and a real controller
 * that is killed with SIGKILL mid-migration and restarted on the same data dir.
 */
describe('yard migrate, from a script, through controller restarts (relative data dirs)', () => {
  let port: number;
  let address: string;
  let controller: YardProcess;
  const ctlDir = relDir('yard-mcli-ctl-');
  const agentDirs = { a: relDir('yard-mcli-a-'), b: relDir('yard-mcli-b-') };
  const agents: YardProcess[] = [];
  let api: ReturnType<typeof control>;

  const startCtl = async () => {
    controller = startControllerProc(ctlDir, port, ['--verify', '1s', '--grace', '20s', '--cpu-limit', '100']);
    await controller.waitForOutput(/controller listening/);
    api?.close();
    api = control(socketOf(resolve(ctlDir)));
  };
  const migrate = (args: string[], timeoutMs = 90_000) =>
    runYard(['migrate', ...args, '--data-dir', ctlDir], {}, timeoutMs);
  const lastJson = (stdout: string) =>
    JSON.parse(stdout.trim().split('\n').at(-1)!) as { id: string; phase: string; done: boolean };
  const runningOn = async (name: string) => {
    const live = (await api.workloads()).filter(
      (w) => w.spec?.name === name && workloadStates.name(w.state) === 'running',
    );
    const servers = (await api.call(api.client.listServers, { pageSize: 0, pageToken: '' })).servers;
    return live.map((w) => servers.find((s) => s.id === w.serverId)?.name);
  };
  const startWorkload = async (s: WorkloadSpec) => {
    await api.call(api.client.runWorkload, { server: 'host-a', spec: s });
    await waitFor(`${s.name} running on host-a`, async () =>
      (await runningOn(s.name)).join() === 'host-a' ? true : undefined,
    );
  };
  const bothOnline = () =>
    waitFor(
      'both agents online',
      async () => {
        const servers = (await api.call(api.client.listServers, { pageSize: 0, pageToken: '' })).servers;
        return servers.length === 2 && servers.every((s) => s.state === ServerState.SERVER_STATE_ONLINE)
          ? true
          : undefined;
      },
      30_000,
    );

  beforeAll(async () => {
    assertBuilt();
    expect(ctlDir.startsWith('/')).toBe(false);
    port = await freePort();
    address = `127.0.0.1:${port}`;
    await startCtl();
    for (const [host, dir] of Object.entries(agentDirs))
      agents.push(
        startAgentProc(address, dir, [
          '--name',
          `host-${host}`,
          '--nvidia-smi',
          '/nonexistent/nvidia-smi',
          ...joinArgs(ctlDir),
        ]),
      );
    await bothOnline();
  });

  afterAll(async () => {
    api?.close();
    await Promise.all([...agents.map((a) => a.stop()), controller?.stop()]);
  });

  it('waits by default and exits 0 once committed; the state arrives whole (relative --data-dir everywhere)', async () => {
    await startWorkload(spec('counter'));
    await waitFor('counter making progress', async () => /progress n=\d+/.test(await api.logs('counter')) || undefined);
    const r = await migrate(['counter', '--to', 'host-b']);
    expect(r.stderr).not.toMatch(/error|lost/i);
    expect(r.code).toBe(0);
    const last = lastJson(r.stdout) as ReturnType<typeof lastJson> & {
      timings: { transferRate: number | null; transferBytes: number; downtimeMs: number | null };
    };
    // Agents on one host reach each other: agent to agent. Its state is far below pre-copy's threshold.
    expect(last).toMatchObject({ phase: 'committed', done: true, transferPath: 'direct', precopy: false });
    expect(last.timings.transferBytes).toBeGreaterThan(0);
    expect(last.timings.transferRate).toBeGreaterThan(0);
    expect(last.timings.downtimeMs).toBeGreaterThan(0);
    // The example checks its own checksum on restore and exits 2 if the state is not exact.
    await waitFor(
      'counter resumed on host-b',
      async () => /resumed at n=\d+/.test(await api.logs('counter')) || undefined,
    );
    expect(await runningOn('counter')).toEqual(['host-b']);
  });

  it('--detach returns at once with exit 0 and the migration as it started; it goes on', async () => {
    await startWorkload(spec('slow-d', { command: '/bin/sh', args: ['-c', SLOW_SAVER] }));
    const r = await migrate(['slow-d', '--to', 'host-b', '--detach', '--no-precopy']);
    expect(r.code).toBe(0);
    const started = JSON.parse(r.stdout) as { id: string; done: boolean; precopy: boolean };
    expect(started.done).toBe(false);
    expect(started.precopy).toBe(false);
    // The workload takes 2 s to save: it returned long before the end.
    expect(migrationDone((await api.migrations()).find((x) => x.id === started.id)!.phase)).toBe(false);
    const done = await api.waitForMigrationEnd(started.id);
    expect(migrationPhases.name(done.phase)).toBe('committed');
  });

  it("reconnects after the controller is killed mid-checkpoint and exits with the outcome's code", async () => {
    await startWorkload(spec('slow', { command: '/bin/sh', args: ['-c', SLOW_SAVER] }));
    const watching = migrate(['slow', '--to', 'host-b', '--json', '--reconnect-for', '90s'], 120_000);
    const m = await waitFor(
      'migration of slow',
      async () => (await api.migrations()).find((x) => x.workload === 'slow'),
      15_000,
      50,
    );
    await api.waitForPhase(m.id, 'checkpointing');
    // The CLI hears the phase on its own stream, a moment after this poll; the save takes 2 s.
    await new Promise((r) => setTimeout(r, 500));
    await controller.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1000));
    await startCtl();

    const r = await watching;
    const final = await api.waitForMigrationEnd(m.id);
    expect(r.stderr).toMatch(
      /lost the controller \(.*\) while migration .* was checkpointing; it goes on there: reconnecting for up to 90s/,
    );
    expect(r.stderr).toMatch(/reconnected to the controller at /);
    expect([0, 3, 4]).toContain(r.code);
    expect(r.code).toBe(exitCodeForPhase(final.phase));
    expect(lastJson(r.stdout)).toMatchObject({ id: m.id, phase: migrationPhases.name(final.phase), done: true });
    await bothOnline();
    await waitFor(
      'slow running on exactly one host',
      async () => ((await runningOn('slow')).length === 1 ? true : undefined),
      20_000,
    );
  });

  it('gives up after --reconnect-for with exit 5, saying the outcome is unknown', async () => {
    await startWorkload(spec('slow-x', { command: '/bin/sh', args: ['-c', SLOW_SAVER] }));
    const watching = migrate(['slow-x', '--to', 'host-b', '--reconnect-for', '2s']);
    const m = await waitFor(
      'migration of slow-x',
      async () => (await api.migrations()).find((x) => x.workload === 'slow-x'),
      15_000,
      50,
    );
    await api.waitForPhase(m.id, 'checkpointing');
    // The CLI hears the phase on its own stream, a moment after this poll; the save takes 2 s.
    await new Promise((r) => setTimeout(r, 500));
    await controller.kill('SIGKILL');
    const t0 = Date.now();
    const r = await watching;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(
      /could not reach the controller for \d\.\d\d s .*migration .* of slow-x was checkpointing, and how it ends is unknown: once the controller is back, `yard ps` shows where slow-x runs/,
    );
    await startCtl();
    expect(migrationDone((await api.waitForMigrationEnd(m.id)).phase)).toBe(true);
  }, 60_000);
});

describe('yard migrate --precopy / --no-precopy', () => {
  it.each(['restart', 'freeze'])(
    '--precopy with --strategy %s is a usage error (exit 2), refused before any controller is asked',
    async (strategy) => {
      const r = await runYard([
        'migrate',
        'train',
        '--to',
        'host-b',
        '--precopy',
        '--strategy',
        strategy,
        '--controller',
        '127.0.0.1:1',
        '--data-dir',
        tempDir('yard-mcli-flags-'),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `yard: --precopy applies to the checkpoint strategy only, not --strategy ${strategy}: drop --precopy, or use --strategy checkpoint\nRun \`yard migrate --help\` for usage.\n`,
      );
    },
  );

  it('--help says what pre-copy is for and what it does by default', async () => {
    const r = await runYard(['migrate', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toMatch(/--precopy .*copy the state dir to the target while the workload still runs/);
    expect(help).toContain('large state files that rarely change');
    expect(help).toContain('Default: on when the state dir is larger than 64 MiB; --no-precopy turns it off');
  });
});

describe('the controller process and its store', () => {
  it('stops on a store with a bad field, naming the file and field; --reset-store starts clean, keeping the copy', async () => {
    const dir = tempDir('yard-mcli-store-');
    const store = join(dir, 'store.json');
    copyFileSync(join(STORES, 'created-ms-string.json'), store);
    const port = await freePort();
    const r = await runYard(['controller', '--data-dir', dir, '--listen', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`store file ${store} has a bad field: migrations.m1.createdMs`);
    const ctl = startControllerProc(dir, port, ['--reset-store']);
    try {
      await ctl.waitForOutput(/controller listening/);
      // One copy from each start that found the file bad.
      expect(readdirSync(dir).filter((f) => f.startsWith('store.json.corrupt-'))).toHaveLength(2);
    } finally {
      await ctl.kill();
    }
  });

  it('keeps its data dir 0700 and store.json 0600 under umask 022', async () => {
    const umask = process.umask(0o022);
    const dir = join(tempDir('yard-mcli-perm-'), 'data');
    const port = await freePort();
    const ctl = startControllerProc(relative(process.cwd(), dir), port);
    process.umask(umask);
    try {
      await ctl.waitForOutput(/controller listening/);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, 'store.json')).mode & 0o777).toBe(0o600);
    } finally {
      await ctl.kill();
    }
  });
});
