// A leader controller cut off from etcd (its namespace's link taken down): it stops acting as
// leader (exits) before the other controller is elected, so two coordinators never run at once,
// and the agents, given both addresses, move to the new leader. Each controller runs in a network
// namespace of its own; etcd serves them on the namespaces' gateways, the agents run on this host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
import { createHosts, netnsAvailable } from '../helpers/netns.js';
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
import { execFileSync } from 'node:child_process';

const TTL_S = 2;

describe.skipIf(!etcdAvailable || !netnsAvailable())('a leader controller cut off from etcd', () => {
  let net: ReturnType<typeof createHosts>;
  let etcd: EtcdCluster;
  const dirs = { a: tempDir('yard-part-a-'), b: tempDir('yard-part-b-') };
  const ctl: { a?: YardProcess; b?: YardProcess } = {};
  const agents: YardProcess[] = [];
  let port = 0;

  const startCtl = (which: 'a' | 'b') => {
    const host = net.hosts[which === 'a' ? 0 : 1]!;
    return startControllerProc(
      dirs[which],
      port,
      ['--store', `etcd://${etcd.endpointsOn(host.gateway).join(',')}`, '--leader-ttl', `${TTL_S}s`],
      '0.0.0.0',
      host.wrap,
    );
  };
  const addressOf = (i: number) => `${net.hosts[i]!.gateway.replace(/\.1$/, '.2')}:${port}`;

  beforeAll(async () => {
    assertBuilt();
    net = createHosts(2);
    etcd = await EtcdCluster.start(
      1,
      net.hosts.map((h) => h.gateway),
    );
    port = await freePort();
    ctl.a = startCtl('a');
    await ctl.a.waitForOutput(/controller listening/);
    ctl.b = startCtl('b');
    await ctl.b.waitForOutput(/standby/);
    const list = `${addressOf(0)},${addressOf(1)}`;
    for (const name of ['part-1', 'part-2'])
      agents.push(
        startAgentProc(list, tempDir('yard-part-agent-'), [
          '--name',
          name,
          '--nvidia-smi',
          '/nonexistent',
          ...joinArgs(dirs.a),
        ]),
      );
    await waitFor(
      'both agents online on A',
      async () => {
        const r = await runYard(['servers', '--json', '--data-dir', dirs.a]);
        const l = r.code === 0 ? (JSON.parse(r.stdout) as { state: string }[]) : [];
        return l.filter((s) => s.state === 'online').length === 2 || undefined;
      },
      30_000,
    );
  }, 90_000);

  afterAll(async () => {
    await Promise.all([...agents.map((a) => a.stop()), ctl.a?.stop(), ctl.b?.stop()]);
    await etcd?.stop();
    net?.destroy();
  });

  it('stops leading before the other is elected, and its agents move to the new leader', async () => {
    let exitedMs = 0;
    void ctl.a!.exited.then(() => (exitedMs = Date.now()));
    let electedMs = 0;
    const elected = ctl.b!.waitForOutput(/elected leader/, 20_000).then(() => (electedMs = Date.now()));
    const cutMs = Date.now();
    execFileSync('ip', ['netns', 'exec', net.hosts[0]!.ns, 'ip', 'link', 'set', 'eth0', 'down']);
    await elected;
    expect(await ctl.a!.exited).toBe(1);
    expect(exitedMs).toBeGreaterThan(0);
    expect(exitedMs).toBeLessThan(electedMs);
    // It says why it stopped.
    expect(ctl.a!.output).toMatch(/can no longer be sure it leads/);
    // The standby waited for etcd to free the lease: no sooner than the TTL after the cut, give or take a keep-alive.
    expect(electedMs - cutMs).toBeGreaterThan(TTL_S * 1000 - 1000);
    console.log(
      `leader cut off from etcd (lease TTL ${TTL_S}s): it exited ${exitedMs - cutMs} ms after the cut, the other was elected ${electedMs - cutMs} ms after the cut`,
    );
    await waitFor(
      'both agents online on B',
      async () => {
        const r = await runYard(['servers', '--json', '--data-dir', dirs.b]);
        const l = r.code === 0 ? (JSON.parse(r.stdout) as { state: string }[]) : [];
        return l.filter((s) => s.state === 'online').length === 2 || undefined;
      },
      30_000,
    );
  });
});
