// A leader failover while a client opens a connection every 100 ms through a proxy agent: two
// controllers on a real etcd, the route's backend a workload on host-a. The leader is SIGKILLed;
// host-a's agent is held (SIGSTOP) so the proxy reaches the new leader first, then host-a after
// it; in the other order, host-a first. Not one client connection fails either way: the proxy
// keeps the table it has until the new leader places the same one. (The proxy runs in its agent:
// while that agent is held, the clients wait a few seconds rather than fail.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationStrategy, workloadStates } from '../../src/core/workload.js';
import { control, socketOf } from '../helpers/control.js';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
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
import { echoSpec } from '../helpers/specs.js';
import { startTraffic } from '../helpers/traffic.js';

const TTL_S = 2;

describe.skipIf(!etcdAvailable)('a leader failover under client connections through a proxy agent', () => {
  let etcd: EtcdCluster;
  const dirs = { a: tempDir('yard-pf-a-'), b: tempDir('yard-pf-b-') };
  const ports = { a: 0, b: 0 };
  const ctl: { a?: YardProcess; b?: YardProcess } = {};
  const agents: { a?: YardProcess; edge?: YardProcess } = {};
  let leader: 'a' | 'b' = 'a';
  let webPort = 0;

  const startCtl = (which: 'a' | 'b') =>
    startControllerProc(dirs[which], ports[which], [
      '--store',
      `etcd://${etcd.endpoints.join(',')}`,
      '--leader-ttl',
      `${TTL_S}s`,
      '--grace',
      '60s',
    ]);
  const states = async (dir: string): Promise<Record<string, string>> => {
    const r = await runYard(['servers', '--json', '--data-dir', dir]);
    if (r.code !== 0) return {};
    return Object.fromEntries(
      (JSON.parse(r.stdout) as { name: string; state: string }[]).map((s) => [s.name, s.state]),
    );
  };
  const bothOnline = async (dir: string) => {
    const s = await states(dir);
    return (s['host-a'] === 'online' && s.edge === 'online') || undefined;
  };

  beforeAll(async () => {
    assertBuilt();
    etcd = await EtcdCluster.start(1);
    ports.a = await freePort();
    ports.b = await freePort();
    ctl.a = startCtl('a');
    await ctl.a.waitForOutput(/controller listening/);
    ctl.b = startCtl('b');
    await ctl.b.waitForOutput(/standby/);
    const list = `127.0.0.1:${ports.a},127.0.0.1:${ports.b}`;
    const common = ['--nvidia-smi', '/nonexistent/nvidia-smi', ...joinArgs(dirs.a)];
    agents.a = startAgentProc(list, tempDir('yard-pf-host-'), [
      '--name',
      'host-a',
      '--advertise',
      '127.0.0.2',
      ...common,
    ]);
    agents.edge = startAgentProc(list, tempDir('yard-pf-edge-'), ['--name', 'edge', '--proxy', ...common]);
    await waitFor('both agents online on A', () => bothOnline(dirs.a), 30_000);

    const api = control(socketOf(dirs.a));
    webPort = await freePort();
    const echoPort = await freePort();
    try {
      await api.call(api.client.runWorkload, {
        server: 'host-a',
        spec: echoSpec('api', 'blue', echoPort, MigrationStrategy.MIGRATION_STRATEGY_RESTART),
      });
      await waitFor(
        'api running',
        async () =>
          (await api.liveInstances('api')).some((w) => workloadStates.name(w.state) === 'running') || undefined,
        20_000,
      );
    } finally {
      api.close();
    }
    const file = join(dirs.a, 'web.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'web',
        listen: { server: 'edge', port: webPort, host: '127.0.0.1' },
        backends: [{ workload: 'api', weight: 100, version: 'blue' }],
        healthCheck: { kind: 'tcp', interval: '300ms', timeout: '200ms', unhealthyAfter: 2, healthyAfter: 1 },
      }),
    );
    const r = await runYard(['route', 'apply', '-f', file, '--data-dir', dirs.a]);
    expect(r.code, r.stderr).toBe(0);
  }, 90_000);

  afterAll(async () => {
    if (agents.a?.child.pid && agents.a.child.exitCode === null && agents.a.child.signalCode === null)
      process.kill(agents.a.child.pid, 'SIGCONT');
    await Promise.all([agents.a?.stop(), agents.edge?.stop(), ctl.a?.stop(), ctl.b?.stop()]);
    await etcd?.stop();
  });

  /** Kills the leader with one agent held back, so the other reaches the new leader first. */
  const failover = async (heldBack: 'a' | 'edge') => {
    const traffic = startTraffic(`127.0.0.1:${webPort}`, {
      clients: 1,
      pauseMs: 100,
      maxMs: 120_000,
      maxRequests: 1200,
    });
    const next = leader === 'a' ? 'b' : 'a';
    try {
      await waitFor('traffic flowing', () => (traffic.report().ok >= 10 ? true : undefined), 20_000);
      const held = agents[heldBack]!.child.pid!;
      process.kill(held, 'SIGSTOP');
      await ctl[leader]!.kill('SIGKILL');
      await ctl[next]!.waitForOutput(/controller listening/, 20_000);
      const other = heldBack === 'a' ? 'edge' : 'host-a';
      await waitFor(
        `${other} on the new leader first`,
        async () => ((await states(dirs[next]))[other] === 'online' ? true : undefined),
        30_000,
        200,
      );
      // The proxy runs in its agent: held, its clients wait (they do not fail) until it goes on.
      if (heldBack === 'a') {
        const before = traffic.report().ok;
        await waitFor('traffic meanwhile', () => (traffic.report().ok >= before + 20 ? true : undefined), 30_000);
      }
      process.kill(held, 'SIGCONT');
      await waitFor('both on the new leader', () => bothOnline(dirs[next]), 30_000, 200);
      const after = traffic.report().ok;
      await waitFor('traffic after', () => (traffic.report().ok >= after + 20 ? true : undefined), 30_000);
    } finally {
      const r = await traffic.stop();
      expect(r.failed, r.failures.join('\n')).toBe(0);
      // 10 before the kill, 20 after both agents are on the new leader, and those in between.
      expect(r.ok).toBeGreaterThanOrEqual(30);
    }
    // The old leader comes back as the standby, for the next case.
    ctl[leader] = startCtl(leader);
    await ctl[leader]!.waitForOutput(/standby/);
    leader = next;
  };

  it('drops no connection when the proxy reaches the new leader before the backend does', {
    timeout: 120_000,
  }, async () => {
    await failover('a');
  });

  it('drops no connection when the backend reaches the new leader before the proxy does', {
    timeout: 120_000,
  }, async () => {
    await failover('edge');
  });
});
