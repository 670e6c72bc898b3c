// Several controllers on a real three-member etcd, each serving agents and the Control API: the
// follower terminates TLS with its own certificate and relays every call to the leader as a
// controller, with its client's certificate in the call's metadata, and the leader checks that
// certificate as if the client had dialled it (a credential revoked there ends its relayed watch). Agents joined through the follower run workloads
// the leader's coordinator moves; each controller's agents are counted from presence keys bound
// to its etcd lease; a follower SIGKILLed hands its agents to the leader without stopping a
// workload, and its presence goes with its lease.
import { Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCredential } from '../../src/cli/credential.js';
import { ControlClient } from '../../src/gen/switchyard/v1/control.js';
import { MigrationStrategy, migrationPhases, workloadStates } from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
import { counter } from '../helpers/move-fleet.js';
import { channelOf, credentialFile, operatorPems } from '../helpers/pki.js';
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

interface Status {
  controllerId: string;
  controllers: { address: string; leader: boolean; agents: number }[];
}

describe.skipIf(!etcdAvailable)('followers serve agents and the Control API, relaying to the leader', () => {
  let etcd: EtcdCluster;
  const dirs = { a: tempDir('yard-relay-a-'), b: tempDir('yard-relay-b-') };
  const ports = { a: 0, b: 0 };
  const ctl: { a?: YardProcess; b?: YardProcess } = {};
  const agents: Record<string, YardProcess> = {};
  const away = tempDir('yard-relay-cli-');
  let viewer = '';

  const startCtl = (which: 'a' | 'b') =>
    startControllerProc(dirs[which], ports[which], [
      '--store',
      `etcd://${etcd.endpoints.join(',')}`,
      '--leader-ttl',
      `${TTL_S}s`,
      '--verify',
      '1s',
      '--cpu-limit',
      '100',
    ]);
  const viaB = (credential: string | undefined, ...args: string[]) =>
    runYard([
      ...args,
      '--controller',
      `127.0.0.1:${ports.b}`,
      ...(credential ? ['--credential', credential] : []),
      '--data-dir',
      away,
    ]);
  const status = async (): Promise<Status> =>
    JSON.parse((await runYard(['status', '--json', '--data-dir', dirs.a])).stdout) as Status;
  const online = async (names: string[]) => {
    const r = await runYard(['servers', '--json', '--data-dir', dirs.a]);
    if (r.code !== 0) return undefined;
    const l = JSON.parse(r.stdout) as { name: string; state: string }[];
    return names.every((n) => l.some((s) => s.name === n && s.state === 'online')) ? true : undefined;
  };

  beforeAll(async () => {
    assertBuilt();
    etcd = await EtcdCluster.start(3);
    ports.a = await freePort();
    ports.b = await freePort();
    ctl.a = startCtl('a');
    await ctl.a.waitForOutput(/controller listening/);
    ctl.b = startCtl('b');
    await ctl.b.waitForOutput(/calls to this controller are relayed to the leader/);
    viewer = await credentialFile(dirs.a, `127.0.0.1:${ports.b}`, 'wall', 'viewer');
    // near: the leader's agent. far: joins and connects through the follower first.
    agents.near = startAgentProc(`127.0.0.1:${ports.a}`, tempDir('yard-relay-near-'), [
      '--name',
      'near',
      '--advertise',
      '127.0.0.2',
      '--nvidia-smi',
      '/nonexistent',
      ...joinArgs(dirs.a),
    ]);
    agents.far = startAgentProc(`127.0.0.1:${ports.b},127.0.0.1:${ports.a}`, tempDir('yard-relay-far-'), [
      '--name',
      'far',
      '--advertise',
      '127.0.0.3',
      '--nvidia-smi',
      '/nonexistent',
      ...joinArgs(dirs.a),
    ]);
    await waitFor('both agents online on the leader', () => online(['near', 'far']), 30_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...Object.values(agents).map((a) => a.stop()), ctl.a?.stop(), ctl.b?.stop()]);
    await etcd?.stop();
  });

  it("counts each controller's agents from presence keys bound to its lease", async () => {
    const counted = await waitFor(
      'one agent on each controller',
      async () => {
        const s = await status();
        return s.controllers.map((c) => c.agents).join() === '1,1' ? s.controllers : undefined;
      },
      10_000,
    );
    expect(counted.map((c) => [c.address, c.leader])).toEqual([
      [`127.0.0.1:${ports.a}`, true],
      [`127.0.0.1:${ports.b}`, false],
    ]);
    expect(agents.far!.output).toContain(`connected to controller 127.0.0.1:${ports.b}`);
  });

  it('serves the Control API on the follower, with every call checked by the leader', async () => {
    const r = await viaB(viewer, 'status', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Status).controllerId).toBe((await status()).controllerId);
    const servers = await viaB(viewer, 'servers', '--json');
    expect(servers.code, servers.stderr).toBe(0);
    expect((JSON.parse(servers.stdout) as { name: string }[]).map((s) => s.name).sort()).toEqual(['far', 'near']);
    // A viewer may look, not act: the leader's role check, on the credential shown to the follower.
    const token = await viaB(viewer, 'token', 'rotate');
    expect(token.code).not.toBe(0);
    expect(token.stderr).toMatch(/viewer/);
    // No credential at all: the leader's own words.
    const bare = await viaB(undefined, 'status');
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/credential/);
  });

  it('ends a watch relayed by the follower when its credential is revoked on the leader', async () => {
    const out = join(away, 'ops.json');
    const granted = await runYard(['access', 'grant', 'ops', '--role', 'operator', '--out', out, '--data-dir', dirs.a]);
    expect(granted.code, granted.stderr).toBe(0);
    const c = await readCredential(out);
    const client = new ControlClient(
      `127.0.0.1:${ports.b}`,
      channelOf({ caPem: c.ca, keyPem: c.key, certPem: c.certificate }),
    );
    try {
      const watch = client.watchFleet({});
      const ended = new Promise<ServiceError>((resolve) => watch.on('error', resolve));
      await new Promise<void>((resolve) => watch.once('data', () => resolve()));
      const revokedAt = Date.now();
      expect((await runYard(['access', 'revoke', 'ops', '--data-dir', dirs.a])).code).toBe(0);
      const err = await ended;
      expect(err.code).toBe(grpcStatus.PERMISSION_DENIED);
      expect(err.details).toMatch(/revoked/);
      expect(Date.now() - revokedAt).toBeLessThan(3000);
      const after = await viaB(out, 'servers');
      expect(after.code).toBe(1);
      expect(after.stderr).toMatch(/the credential of operator ops \(serial [0-9a-f]+\) was revoked/);
    } finally {
      client.close();
    }
  });

  it('ignores relay metadata from a client that is not a controller', async () => {
    const wall = await operatorPems(dirs.a, 'forger', 'viewer');
    const admin = await operatorPems(dirs.a, 'root', 'admin');
    const client = new ControlClient(`127.0.0.1:${ports.a}`, channelOf(wall));
    try {
      const md = new Metadata();
      md.set('x-yard-relayed-cert-bin', Buffer.from(new X509Certificate(admin.certPem).raw));
      const err = await new Promise<{ code?: number; details?: string } | null>((resolve) =>
        client.rotateJoinToken({}, md, (e) => resolve(e)),
      );
      expect(err?.details).toMatch(/viewer/);
    } finally {
      client.close();
    }
  });

  it("moves a checkpointed workload from the follower's agent to the leader's", async () => {
    const api = control(socketOf(dirs.a));
    try {
      await api.call(api.client.runWorkload, { server: 'far', spec: counter('relay-job', 16) });
      await waitFor(
        'relay-job working',
        async () => (/progress n=/.test(await api.logs('relay-job')) ? true : undefined),
        30_000,
      );
      const m = (
        await api.call(api.client.startMigration, {
          workload: 'relay-job',
          target: 'near',
          strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
        })
      ).migration!;
      const done = await api.waitForMigrationEnd(m.id, 90_000);
      expect(migrationPhases.name(done.phase), done.error).toBe('committed');
      const live = await api.liveInstances('relay-job');
      expect(live.map((w) => [w.serverId, workloadStates.name(w.state)])).toEqual([
        [await serverId('near'), 'running'],
      ]);
    } finally {
      api.close();
    }
  });

  it('a follower SIGKILLed: its agent moves to the leader, its workload keeps running, its presence goes', async () => {
    const api = control(socketOf(dirs.a));
    try {
      await api.call(api.client.runWorkload, { server: 'far', spec: counter('stay-job', 1) });
      const before = await waitFor(
        'stay-job running',
        async () => {
          const l = await api.liveInstances('stay-job');
          return l[0] && workloadStates.name(l[0].state) === 'running' && l[0].pid > 0 ? l[0] : undefined;
        },
        30_000,
      );
      const killedMs = Date.now();
      await ctl.b!.kill('SIGKILL');
      await agents.far!.waitForOutput(new RegExp(`connected to controller 127\\.0\\.0\\.1:${ports.a}`), 20_000);
      const movedMs = Date.now() - killedMs;
      const alone = await waitFor(
        "the follower's registration and presence gone with its lease",
        async () => {
          const s = await status();
          return s.controllers.length === 1 && s.controllers[0]!.agents === 2 ? s.controllers : undefined;
        },
        (TTL_S + 5) * 1000,
      );
      expect(alone[0]!.leader).toBe(true);
      const after = await api.liveInstances('stay-job');
      expect(after.map((w) => [w.pid, workloadStates.name(w.state)])).toEqual([[before.pid, 'running']]);
      console.log(
        `follower SIGKILLed: its agent on the leader after ${movedMs} ms; presence moved, workload untouched`,
      );
    } finally {
      api.close();
    }
  });

  async function serverId(name: string): Promise<string> {
    const r = await runYard(['servers', '--json', '--data-dir', dirs.a]);
    return (JSON.parse(r.stdout) as { id: string; name: string }[]).find((s) => s.name === name)!.id;
  }
});
