// Two real controllers on a real three-member etcd: one leads (it holds the leader key, bound to
// its lease) and serves; the other waits, its store kept current by etcd's watch. The leader
// SIGKILLed in the middle of a checkpoint migration: the standby takes over once etcd frees the
// dead leader's lease, the agents (given both addresses) move to it, and it finishes or rolls
// back the migration from the shared journal, the workload on exactly one host. A leader stopped
// on purpose resigns: the other takes over without waiting for the lease.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationStrategy, migrationPhases, workloadStates } from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
import { counter } from '../helpers/move-fleet.js';
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

const TTL_S = 2;

describe.skipIf(!etcdAvailable)('several controllers on etcd: one leads, a standby takes over', () => {
  let etcd: EtcdCluster;
  const dirs = { a: tempDir('yard-lead-a-'), b: tempDir('yard-lead-b-') };
  const ports = { a: 0, b: 0 };
  const ctl: { a?: YardProcess; b?: YardProcess } = {};
  const agents: YardProcess[] = [];

  const startCtl = (which: 'a' | 'b') =>
    startControllerProc(dirs[which], ports[which], [
      '--store',
      `etcd://${etcd.endpoints.join(',')}`,
      '--leader-ttl',
      `${TTL_S}s`,
      '--verify',
      '2s',
      '--cpu-limit',
      '100',
    ]);
  const onlineOn = async (dir: string) => {
    const r = await runYard(['servers', '--json', '--data-dir', dir]);
    if (r.code !== 0) return undefined;
    const l = JSON.parse(r.stdout) as { name: string; state: string }[];
    return l.filter((s) => s.state === 'online').length === 2 ? true : undefined;
  };

  beforeAll(async () => {
    assertBuilt();
    etcd = await EtcdCluster.start(3);
    ports.a = await freePort();
    ports.b = await freePort();
    ctl.a = startCtl('a');
    await ctl.a.waitForOutput(/controller listening/);
    ctl.b = startCtl('b');
    await ctl.b.waitForOutput(/standby/);
    const list = `127.0.0.1:${ports.a},127.0.0.1:${ports.b}`;
    for (const [name, ip] of [
      ['host-a', '127.0.0.2'],
      ['host-b', '127.0.0.3'],
    ] as const)
      agents.push(
        startAgentProc(list, tempDir('yard-lead-agent-'), [
          '--name',
          name,
          '--advertise',
          ip,
          '--nvidia-smi',
          '/nonexistent',
          ...joinArgs(dirs.a),
        ]),
      );
    await waitFor('both agents online on A', () => onlineOn(dirs.a), 30_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...agents.map((a) => a.stop()), ctl.a?.stop(), ctl.b?.stop()]);
    await etcd?.stop();
  });

  it("the follower's own socket serves its host's CLI, answered by the leader as its local admin", async () => {
    const [onA, onB] = await Promise.all([
      runYard(['status', '--json', '--data-dir', dirs.a]),
      runYard(['status', '--json', '--data-dir', dirs.b]),
    ]);
    expect(onB.code, onB.stderr).toBe(0);
    const id = (r: { stdout: string }) => (JSON.parse(r.stdout) as { controllerId: string }).controllerId;
    expect(id(onB)).toBe(id(onA));
    // An admin-only call: the socket's owner is the host's admin, on a follower as on the leader.
    const access = await runYard(['access', 'list', '--data-dir', dirs.b]);
    expect(access.code, access.stderr).toBe(0);
    expect(ctl.b!.output).toContain(`127.0.0.1:${ports.a}`);
    // A second controller on the follower's data dir is refused, and takes nothing of it.
    const twice = await runYard(['controller', '--data-dir', dirs.b, '--listen', '127.0.0.1:0']);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/already runs for data dir .*following the leader/);
  });

  it('`yard status` names the store and every controller on it, the leader first', async () => {
    const r = await runYard(['status', '--json', '--data-dir', dirs.a]);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { store: string; controllers: { address: string; leader: boolean }[] };
    expect(o.store).toBe(`etcd ${etcd.endpoints.join(',')}`);
    expect(o.controllers.map((c) => [c.address, c.leader])).toEqual([
      [`127.0.0.1:${ports.a}`, true],
      [`127.0.0.1:${ports.b}`, false],
    ]);
    const text = await runYard(['status', '--data-dir', dirs.a]);
    expect(text.stdout).toMatch(new RegExp(`controllers 127\\.0\\.0\\.1:${ports.a} leader on `));
    expect(text.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${ports.b} follower on `));
  });

  it('the leader SIGKILLed mid-migration: the standby leads within the TTL and a few seconds, and the move ends on one host', async () => {
    let api = control(socketOf(dirs.a));
    try {
      await api.call(api.client.runWorkload, { server: 'host-a', spec: counter('lead-job', 64) });
      await waitFor(
        'lead-job working',
        async () => (/progress n=/.test(await api.logs('lead-job')) ? true : undefined),
        30_000,
      );
      const m = (
        await api.call(api.client.startMigration, {
          workload: 'lead-job',
          target: 'host-b',
          strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
        })
      ).migration!;
      // Any phase between the start and the commit: verifying alone lasts 2 s.
      await waitFor(
        'the move under way',
        async () => {
          const now = (await api.migrations()).find((x) => x.id === m.id);
          return now &&
            ['checkpointing', 'transferring', 'restoring', 'verifying'].includes(migrationPhases.name(now.phase))
            ? true
            : undefined;
        },
        60_000,
        50,
      );
      const killedMs = Date.now();
      await ctl.a!.kill('SIGKILL');
      api.close();
      await ctl.b!.waitForOutput(/elected leader/, 20_000);
      const tookMs = Date.now() - killedMs;
      // etcd frees the dead leader's lease TTL seconds after its last keep-alive; the standby is watching.
      expect(tookMs).toBeLessThan(TTL_S * 1000 + 3000);
      await ctl.b!.waitForOutput(/controller listening/);
      const servingMs = Date.now() - killedMs;
      api = control(socketOf(dirs.b));
      const done = await api.waitForMigrationEnd(m.id, 90_000);
      expect(['committed', 'rolled_back']).toContain(migrationPhases.name(done.phase));
      const live = await waitFor(
        'exactly one live instance',
        async () => {
          const l = await api.liveInstances('lead-job');
          return l.length === 1 && workloadStates.name(l[0]!.state) === 'running' ? l : undefined;
        },
        30_000,
      );
      expect(live[0]!.serverId).toBeTruthy();
      await waitFor('both agents online on B', () => onlineOn(dirs.b), 30_000, 100);
      // The dead leader's registration went with its lease: B alone, leading.
      const members = await waitFor(
        'B alone on etcd',
        async () => {
          const r = await runYard(['status', '--json', '--data-dir', dirs.b]);
          const o = JSON.parse(r.stdout) as { controllers: { address: string; leader: boolean }[] };
          return o.controllers.length === 1 ? o.controllers : undefined;
        },
        10_000,
      );
      expect(members[0]).toMatchObject({ address: `127.0.0.1:${ports.b}`, leader: true });
      console.log(
        `leader SIGKILLed (lease TTL ${TTL_S}s): standby elected after ${tookMs} ms, serving after ${servingMs} ms, both agents online on it after ${Date.now() - killedMs} ms; the move ${migrationPhases.name(done.phase)}`,
      );
    } finally {
      api.close();
    }
  });

  it('a leader stopped on purpose resigns: the standby takes over without waiting for the lease, with the join token rotated meanwhile', async () => {
    ctl.a = startCtl('a');
    await ctl.a.waitForOutput(/standby/);
    // Rotated on the leader while A waits: A admits with the new token once it leads.
    const rotated = await runYard(['token', 'rotate', '--data-dir', dirs.b]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const stoppedMs = Date.now();
    await ctl.b!.stop();
    await ctl.a.waitForOutput(/elected leader/, 10_000);
    expect(Date.now() - stoppedMs).toBeLessThan(TTL_S * 1000);
    await ctl.a.waitForOutput(/controller listening/);
    await waitFor('both agents online on A again', () => onlineOn(dirs.a), 30_000);
    const onA = await runYard(['token', '--data-dir', dirs.a]);
    expect(onA.stdout.trim()).toBe(rotated.stdout.trim());
  });
});
