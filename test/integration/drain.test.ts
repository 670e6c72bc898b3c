import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationStrategy, workloadStates } from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
import { ptyYard } from '../helpers/pty.js';
import { counter } from '../helpers/move-fleet.js';
import { workloadSpec } from '../helpers/specs.js';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  YardProcess,
} from '../helpers/procs.js';

type Host = 'a' | 'b' | 'c';
interface ServerJson {
  id: string;
  name: string;
  state: string;
  cordoned: boolean;
  drain: {
    phase: string;
    moved: number;
    failed: number;
    left: number;
    total: number;
    workloads: { target: string | null }[];
  } | null;
}
interface DrainJson {
  phase: string;
  moved: number;
  left: number;
  total: number;
  workloads: { workload: string; outcome: string; how: string; target: string | null; message: string }[];
}

/**
 * Cordon, drain and uncordon with a real controller and three real agents: a drained host's
 * workloads end up elsewhere (the checkpointed one with its state), a cordoned host takes no new
 * work, and a drain that cannot finish by its deadline leaves everything running where it was.
 */
describe('cordon and drain across three real agents', () => {
  let port: number;
  let ctl: YardProcess;
  const ctlDir = tempDir('yard-drain-ctl-');
  const dirs = { a: tempDir('yard-drain-a-'), b: tempDir('yard-drain-b-'), c: tempDir('yard-drain-c-') };
  const agents: Partial<Record<Host, YardProcess>> = {};
  let api: ReturnType<typeof control>;

  const yard = (args: string[], timeoutMs = 15_000) => runYard([...args, '--data-dir', ctlDir], {}, timeoutMs);
  const servers = async () => JSON.parse((await yard(['servers', '--json'])).stdout) as ServerJson[];
  const serverNamed = async (name: string) => (await servers()).find((s) => s.name === name)!;
  const liveOn = async (name: string) => {
    const [w] = await api.liveInstances(name);
    return w && workloadStates.name(w.state) === 'running' ? w : undefined;
  };

  beforeAll(async () => {
    assertBuilt();
    port = await freePort();
    ctl = startControllerProc(ctlDir, port, ['--verify', '1s', '--cpu-limit', '100', '--grace', '20s']);
    await ctl.waitForOutput(/controller listening/);
    for (const h of ['a', 'b', 'c'] as const)
      agents[h] = startAgentProc(`127.0.0.1:${port}`, dirs[h], [
        '--name',
        `host-${h}`,
        '--nvidia-smi',
        '/nonexistent',
        ...joinArgs(ctlDir),
      ]);
    api = control(socketOf(ctlDir));
    await waitFor(
      'three agents online',
      async () => {
        const l = await servers();
        return l.length === 3 && l.every((s) => s.state === 'online') ? true : undefined;
      },
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    api?.close();
    await Promise.all(Object.values(agents).map((a) => a.stop()));
    await ctl?.stop();
  });

  it('a cordoned host is refused as a migration target and by yard run --on, and takes work again once uncordoned', async () => {
    const cordoned = await yard(['cordon', 'host-c']);
    expect(cordoned.code).toBe(0);
    expect(cordoned.stdout).toMatch(/^cordoned host-c: no new work lands on it/);
    expect(await serverNamed('host-c')).toMatchObject({ cordoned: true, drain: null });
    expect((await yard(['servers'])).stdout).toMatch(/host-c\s+online, cordoned/);
    expect((await yard(['status'])).stdout).toMatch(/3 in all; 1 cordoned\n/);

    await expect(
      api.call(api.client.runWorkload, {
        server: 'host-c',
        spec: workloadSpec('refused', '/bin/sleep', { args: ['60'] }),
      }),
    ).rejects.toThrow(/host-c is cordoned: it takes no new work until `yard uncordon host-c`; pick another --on/);

    await api.call(api.client.runWorkload, { server: 'host-a', spec: counter('probe', 0) });
    await waitFor('probe running', () => liveOn('probe'), 30_000);
    const plan = await api.call(api.client.planMigration, {
      workload: 'probe',
      target: 'host-c',
      strategy: MigrationStrategy.MIGRATION_STRATEGY_UNSPECIFIED,
    });
    expect(plan.preflight.find((c) => c.name === 'target-online')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/host-c is cordoned/),
    });
    expect(plan.targets.find((t) => t.name === 'host-c')?.eligible).toBe(false);
    expect(plan.targets.find((t) => t.name === 'host-b')?.eligible).toBe(true);
    const dryRun = await yard(['migrate', 'probe', '--to', 'host-c', '--dry-run']);
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toMatch(/host-c is cordoned/);

    const uncordoned = await yard(['uncordon', 'host-c']);
    expect(uncordoned.stdout).toMatch(/^uncordoned host-c: it takes new work again/);
    expect((await serverNamed('host-c')).cordoned).toBe(false);
    const again = await api.call(api.client.planMigration, {
      workload: 'probe',
      target: 'host-c',
      strategy: MigrationStrategy.MIGRATION_STRATEGY_UNSPECIFIED,
    });
    expect(again.preflight.find((c) => c.name === 'target-online')?.ok).toBe(true);
    await api.call(api.client.stopWorkload, { name: 'probe', remove: true });

    const audit = (await yard(['audit', '--json'])).stdout;
    expect(audit).toMatch(/server\.cordon/);
    expect(audit).toMatch(/server\.uncordon/);
  }, 60_000);

  it('drains a host: the checkpointed job moves with its state, the restartable one restarts elsewhere; the host shows drained and cordoned', async () => {
    await api.call(api.client.runWorkload, { server: 'host-a', spec: counter('job', 0) });
    await api.call(api.client.runWorkload, {
      server: 'host-a',
      spec: workloadSpec('web', '/bin/sleep', {
        args: ['600'],
        strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
      }),
    });
    await waitFor('job making progress', async () => /progress n=\d+/.test(await api.logs('job')) || undefined, 30_000);
    await waitFor('web running', () => liveOn('web'), 30_000);

    const r = await yard(['drain', 'host-a', '--deadline', '2m', '--json'], 150_000);
    const lines = r.stdout.trim().split('\n');
    const report = JSON.parse(lines.at(-1)!) as DrainJson;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(report).toMatchObject({ phase: 'drained', moved: 2, left: 0, total: 2 });
    const a = await serverNamed('host-a');
    for (const w of report.workloads) {
      expect(w.outcome).toBe('moved');
      expect(w.how).toBe('migrate');
      expect(['host-b', 'host-c']).toContain(w.target);
    }
    // Progress came as it happened: at least one line while draining, before the report.
    expect(lines.length).toBeGreaterThan(1);
    expect((JSON.parse(lines[0]!) as DrainJson).phase).toBe('draining');

    for (const name of ['job', 'web']) {
      const w = await waitFor(`${name} running off host-a`, () => liveOn(name), 30_000);
      expect(w.serverId).not.toBe(a.id);
    }
    // The example checks its own checksum on restore and exits 2 if its state is not exact.
    await waitFor('job resumed', async () => /resumed at n=\d+/.test(await api.logs('job')) || undefined, 30_000);
    expect(a).toMatchObject({ cordoned: true, drain: { phase: 'drained', moved: 2, total: 2 } });
    expect(a.drain!.workloads.map((w) => w.target).sort()).toEqual(report.workloads.map((w) => w.target).sort());
    expect((await yard(['servers'])).stdout).toMatch(/host-a\s+online, drained/);

    await yard(['uncordon', 'host-a']);
    expect(await serverNamed('host-a')).toMatchObject({ cordoned: false, drain: null });
  }, 180_000);

  it('on a terminal, one line per workload is redrawn in place (its migration phase while it moves), then the report', async () => {
    const id = (await waitFor('job running', () => liveOn('job'), 30_000)).serverId;
    const host = (await servers()).find((s) => s.id === id)!.name;
    const screen = ptyYard(['drain', host, '--data-dir', ctlDir], { cols: 100, rows: 20 });
    try {
      const during = await screen.waitFor(
        /  job +(preflight|precopying|checkpointing|transferring|restoring|verifying) → host-[abc]/,
        60_000,
        20,
      );
      expect(during).toMatch(new RegExp(`^draining ${host}: \\d/\\d moved · \\S+ to the deadline`, 'm'));
      const done = await screen.waitFor(new RegExp(`^drained ${host}: \\d workloads? moved in`, 'm'), 60_000);
      expect(done).toMatch(/^ {2}job {2}moved {2}migrate {2}→ host-[abc] {2}downtime \d/m);
      // Redrawn, never scrolled: the progress block is on the screen once.
      expect(done.match(new RegExp(`^draining ${host}:`, 'gm'))).toHaveLength(1);
      expect(await screen.exited).toBe(0);
    } finally {
      await screen.stop();
    }
    await yard(['uncordon', host]);
    // Clean-up for the next test: an agent whose session dropped just then (a loaded CI machine)
    // answers once it is back.
    for (const name of ['job', 'web'])
      await waitFor(
        `${name} stopped and removed`,
        () =>
          api.call(api.client.stopWorkload, { name, remove: true }).then(
            () => true,
            () => undefined,
          ),
        30_000,
        500,
      );
  }, 120_000);

  it('a drain whose only possible target is down fails at its deadline, its workload still running on the host', async () => {
    await yard(['cordon', 'host-c']);
    await agents.b!.stop();
    await waitFor('host-b disconnected', async () =>
      (await serverNamed('host-b')).state !== 'online' ? true : undefined,
    );
    await api.call(api.client.runWorkload, { server: 'host-a', spec: counter('stuck', 0) });
    const before = await waitFor('stuck running', () => liveOn('stuck'), 30_000);

    const r = await yard(['drain', 'host-a', '--deadline', '3s']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^drain of host-a failed after [\d.]+ s \(0\/1 moved\): 1 workload still on host-a: 0 failed to move, 1 left at the deadline$/m,
    );
    expect(r.stdout).toMatch(
      /stuck {2}left {2}.*the deadline passed before any server could take it; it still runs on host-a/,
    );

    const after = await liveOn('stuck');
    expect(after?.serverId).toBe(before.serverId);
    expect(after?.pid).toBe(before.pid);
    expect(await serverNamed('host-a')).toMatchObject({ cordoned: true, drain: { phase: 'failed', left: 1 } });
    expect((await yard(['servers'])).stdout).toMatch(/host-a\s+online, drain failed/);
  }, 60_000);

  it('a drain runs in the controller: a restart mid-way reports it cut short, and the cordon persists', async () => {
    const watcher = new YardProcess(['drain', 'host-a', '--deadline', '5m', '--data-dir', ctlDir]);
    await waitFor('the drain under way', async () =>
      (await serverNamed('host-a')).drain?.phase === 'draining' ? true : undefined,
    );
    await ctl.stop();
    expect(await watcher.exited).toBe(5);
    expect(watcher.output).toMatch(/lost the controller while draining host-a; the drain goes on there/);

    ctl = startControllerProc(ctlDir, port, ['--verify', '1s', '--cpu-limit', '100', '--grace', '20s']);
    await ctl.waitForOutput(/controller listening/);
    const a = await waitFor('host-a back', async () => {
      const s = await serverNamed('host-a');
      return s.state === 'online' ? s : undefined;
    });
    expect(a).toMatchObject({ cordoned: true, drain: { phase: 'failed', left: 1, total: 1 } });
    expect(JSON.stringify(a.drain)).toMatch(/the controller restarted during the drain/);
    // The workload never moved: it still runs on host-a.
    expect((await liveOn('stuck'))?.serverId).toBe(a.id);
    expect(await yard(['uncordon', 'host-a'])).toMatchObject({ code: 0 });
  }, 60_000);
});
