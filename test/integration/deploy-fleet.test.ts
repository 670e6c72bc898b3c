import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDeployFleet, type DeployFleet } from '../helpers/deploy-fleet.js';
import { freePort, waitFor, YardProcess } from '../helpers/procs.js';
import { ECHO } from '../helpers/specs.js';

/**
 * Deployments as the fleet changes: scaled by the operator, scaled by their metric within a
 * cooldown, and kept at their count when a host goes down (a real agent stopped, its replica
 * started elsewhere after the grace and the rescheduling delay).
 */
describe('deployments as the fleet changes', () => {
  let fleet: DeployFleet;
  let api: DeployFleet['api'];
  let echoPort: number;
  let busyPort: number;
  const sockets: Socket[] = [];

  const yard = (...args: string[]) => fleet.yard(...args);
  const file = (name: string, text: string) => fleet.file(name, text);
  const status = (name: string) => fleet.status(name);
  const healthyOn = (name: string, count: number, timeoutMs = 30_000) =>
    waitFor(
      `${name}: ${count} healthy replicas on ${count} hosts`,
      async () => {
        const s = await status(name);
        const hosts = new Set(s.replicas.map((r) => r.serverId));
        return s.replicas.length === count && hosts.size === count && s.replicas.every((r) => r.healthy)
          ? s
          : undefined;
      },
      timeoutMs,
      200,
    );
  const idOf = async (host: 'a' | 'b' | 'c') => {
    const l = JSON.parse((await yard('servers', '--json')).stdout) as { id: string; name: string }[];
    return l.find((s) => s.name === `host-${host}`)!.id;
  };
  const audit = async (action: string) =>
    (await api.call(api.client.listAudit, { limit: 500 })).entries.filter((e) => e.action === action);

  beforeAll(async () => {
    echoPort = await freePort();
    busyPort = await freePort();
    fleet = await startDeployFleet('deployf', {
      controllerArgs: ['--autoscale-interval', '1s'],
      hostArgs: ['--label', 'pool=web'],
    });
    api = fleet.api;
  }, 90_000);

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await fleet?.stop();
  });

  it('scales up and down on the operator’s word, one replica per host', async () => {
    const spec = [
      'name: app',
      'replicas: 2',
      `template: {command: ${process.execPath}, args: [${ECHO}], ports: [${echoPort}]}`,
      'placement: {labels: {pool: web}}',
      '',
    ].join('\n');
    expect((await yard('deploy', 'apply', '-f', file('app.yaml', spec))).code).toBe(0);
    await healthyOn('app', 2);
    const up = await yard('deploy', 'scale', 'app', '3');
    expect(up.code, up.stderr).toBe(0);
    await healthyOn('app', 3);
    const over = await yard('deploy', 'scale', 'app', '4');
    expect(over.code).toBe(0);
    await waitFor(
      'the fourth replica refused a host',
      async () =>
        (await status('app')).message.match(/no host for another replica: 4 server\(s\), 4 online, 3 fit/)
          ? true
          : undefined,
      10_000,
    );
    expect((await status('app')).replicas).toHaveLength(3);
    expect((await yard('deploy', 'scale', 'app', '2')).code).toBe(0);
    await healthyOn('app', 2);
    const shown = await yard('deploy', 'status', 'app', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'app', desired: 2, running: 2, healthy: 2 });
    // --watch: a JSON line now, and one at each change.
    const watch = new YardProcess([
      'deploy',
      'status',
      'app',
      '--watch',
      '--json',
      '--controller',
      fleet.address,
      '--data-dir',
      fleet.ctlDir,
    ]);
    try {
      await watch.waitForOutput(/"desired":2,"running":2,"healthy":2/);
      expect((await yard('deploy', 'scale', 'app', '3')).code).toBe(0);
      await watch.waitForOutput(/"desired":3,"running":3,"healthy":3/, 30_000);
      expect(
        watch.output
          .trim()
          .split('\n')
          .every((l) => JSON.parse(l).name === 'app'),
      ).toBe(true);
    } finally {
      await watch.kill('SIGINT');
    }
    expect((await yard('deploy', 'scale', 'app', '2')).code).toBe(0);
    await healthyOn('app', 2);
  }, 60_000);

  it('scales on connections per replica, and holds a change back for the cooldown', async () => {
    const route = {
      name: 'busy',
      listen: { server: 'edge', port: busyPort, host: '127.0.0.1' },
      backends: [{ address: `127.0.0.1:${await freePort()}`, weight: 100 }],
      healthCheck: { kind: 'tcp', interval: '200ms', timeout: '200ms', unhealthyAfter: 2, healthyAfter: 1 },
    };
    expect((await yard('route', 'apply', '-f', file('busy.json', JSON.stringify(route)))).code).toBe(0);
    const spec = [
      'name: busy',
      'replicas: 1',
      `template: {command: ${process.execPath}, args: [${ECHO}], ports: [${echoPort + 1}]}`,
      'route: {name: busy}',
      'autoscale: {min: 1, max: 3, target: {connectionsPerReplica: 2}, cooldown: 60s}',
      '',
    ].join('\n');
    expect((await yard('deploy', 'apply', '-f', file('busy.yaml', spec))).code).toBe(0);
    await healthyOn('busy', 1);
    // Five idle connections through the proxy: 5 per replica against a target of 2.
    for (let i = 0; i < 5; i++) sockets.push(connect({ host: '127.0.0.1', port: busyPort }));
    await healthyOn('busy', 3);
    const [decision] = await audit('deployment.autoscale');
    expect(decision?.target).toMatch(/^busy: connectionsPerReplica 5\.0 vs target 2 over 1 replica\(s\): 1 → 3$/);
    for (const s of sockets.splice(0)) s.destroy();
    await waitFor(
      'the scale-down held by the cooldown',
      async () =>
        (await status('busy')).message.match(/: 3 → 1 \(0 held within 1-3\); held by the cooldown for \d+s$/)
          ? true
          : undefined,
      15_000,
    );
    expect((await status('busy')).desired).toBe(3);
    const del = await yard('deploy', 'delete', 'busy');
    expect(del.stdout).toMatch(/^busy: deleted; removed busy-1-\w{4}, busy-1-\w{4}, busy-1-\w{4}\n$/);
    await waitFor('busy replicas gone', async () =>
      (await api.workloads()).some((w) => w.spec?.name.startsWith('busy-')) ? undefined : true,
    );
  }, 60_000);

  it('yard drain reschedules a replica through its deployment: a replacement on another host, then the replica stops', async () => {
    const before = await healthyOn('app', 2);
    const hosts = await Promise.all((['a', 'b', 'c'] as const).map(async (h) => [h, await idOf(h)] as const));
    const [drained, drainedId] = hosts.find(([, id]) => before.replicas.some((r) => r.serverId === id))!;
    const r = await yard('drain', `host-${drained}`, '--deadline', '60s', '--json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      phase: string;
      workloads: { workload: string; how: string; outcome: string }[];
    };
    expect(report.phase).toBe('drained');
    expect(report.workloads).toEqual([
      expect.objectContaining({
        workload: before.replicas.find((x) => x.serverId === drainedId)!.workload,
        how: 'reschedule',
        outcome: 'moved',
      }),
    ]);
    const after = await healthyOn('app', 2);
    expect(after.replicas.map((x) => x.serverId)).not.toContain(drainedId);
    expect((await yard('uncordon', `host-${drained}`)).code).toBe(0);
  }, 90_000);

  it('starts a replica elsewhere when its host is down past its grace, after the rescheduling delay', async () => {
    const before = await healthyOn('app', 2);
    const hosts = await Promise.all((['a', 'b', 'c'] as const).map(async (h) => [h, await idOf(h)] as const));
    const victim = hosts.find(([, id]) => before.replicas.some((r) => r.serverId === id))![0];
    const stoppedAt = Date.now();
    await fleet.agents[victim]!.stop();
    const after = await waitFor(
      'a replacement on another host',
      async () => {
        const s = await status('app');
        const live = s.replicas.filter((r) => r.healthy && r.serverId !== hosts.find(([h]) => h === victim)![1]);
        return live.length === 2 && new Set(live.map((r) => r.serverId)).size === 2 ? s : undefined;
      },
      30_000,
      200,
    );
    // The grace (2 s) and the first rescheduling delay (5 s) both passed first.
    expect(Date.now() - stoppedAt).toBeGreaterThan(7000);
    expect(after.replicas.some((r) => !before.replicas.some((b) => b.workload === r.workload))).toBe(true);
    const move = (await audit('deployment.reschedule')).find((e) => e.target.startsWith('app:'));
    expect(move?.target).toMatch(
      /^app: starting app-1-\w{4} \(v1\) on host-\w: replacing a replica lost with its host$/,
    );
  }, 60_000);
});
