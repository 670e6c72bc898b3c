// The controller on a real three-member etcd (`--store etcd://…`): what one controller writes is
// there for the next one (a new data dir, same etcd), a route applied through one controller
// shows through another within a second, an etcd member killed and brought back loses nothing,
// and bad --store values are usage errors (exit 2) while an etcd that is not there is said plainly.
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** What controllers of one fleet share in their data dirs: the CA and the join secret. */
const SHARED = ['ca.key', 'ca.crt', 'token'];

interface RouteRow {
  name: string;
  revision: number;
  backends: { address?: string; weight: number }[];
}

describe.skipIf(!etcdAvailable)('the controller on etcd (--store etcd://)', () => {
  let etcd: EtcdCluster;
  let store = '';
  const dirA = tempDir('yard-etcd-a-');
  const dirB = tempDir('yard-etcd-b-');
  let a: YardProcess | undefined;
  let b: YardProcess | undefined;
  let edge: YardProcess | undefined;
  let edgePort = 0;

  const yard = (dir: string, ...args: string[]) => runYard([...args, '--data-dir', dir]);
  const routes = async (dir: string): Promise<RouteRow[]> => {
    const r = await yard(dir, 'routes', '--json');
    return r.code === 0 ? (JSON.parse(r.stdout) as RouteRow[]) : [];
  };
  const routeFile = (dir: string, weight: number, port = 9) => {
    const file = join(dir, 'web.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'web',
        listen: { server: 'edge', port: edgePort, host: '127.0.0.1' },
        backends: [{ address: `127.0.0.1:${port}`, weight }],
      }),
    );
    return file;
  };
  const startOn = async (dir: string, port: number) => {
    const p = startControllerProc(dir, port, ['--store', `etcd://${store}`]);
    await p.waitForOutput(/controller listening/);
    return p;
  };

  beforeAll(async () => {
    assertBuilt();
    etcd = await EtcdCluster.start(3);
    store = etcd.endpoints.join(',');
    const portA = await freePort();
    a = await startOn(dirA, portA);
    for (const file of SHARED) copyFileSync(join(dirA, file), join(dirB, file));
    b = await startOn(dirB, await freePort());
    edgePort = await freePort();
    edge = startAgentProc(`127.0.0.1:${portA}`, tempDir('yard-etcd-edge-'), [
      '--name',
      'edge',
      '--proxy',
      ...joinArgs(dirA),
    ]);
    await waitFor(
      'edge online on A',
      async () =>
        (JSON.parse((await yard(dirA, 'servers', '--json')).stdout || '[]') as { name: string; state: string }[]).some(
          (s) => s.name === 'edge' && s.state === 'online',
        ) || undefined,
      20_000,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all([edge?.stop(), a?.stop(), b?.stop()]);
    await etcd?.stop();
  });

  it('keeps one fleet id for every controller on the same etcd', async () => {
    const idA = JSON.parse((await yard(dirA, 'status', '--json')).stdout) as { controllerId: string };
    const idB = JSON.parse((await yard(dirB, 'status', '--json')).stdout) as { controllerId: string };
    expect(idA.controllerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(idB.controllerId).toBe(idA.controllerId);
  });

  it('shows a route applied through one controller on another within a second', async () => {
    const r = await yard(dirA, 'route', 'apply', '-f', routeFile(dirA, 100));
    expect(r.code, r.stderr).toBe(0);
    const t0 = Date.now();
    const seen = await waitFor(
      'route on B',
      async () => (await routes(dirB)).find((x) => x.name === 'web') ?? undefined,
      5_000,
      50,
    );
    expect(Date.now() - t0).toBeLessThan(1_000 + 600); // one CLI call's start-up on top of the second
    expect(seen.backends[0]?.address).toBe('127.0.0.1:9');
    // The audit entry of the change is in the shared trail, through B.
    const audit = await yard(dirB, 'audit', '--json');
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/route/);
  });

  it('loses nothing when an etcd member is killed and brought back', async () => {
    await etcd.kill(0);
    const r = await yard(dirA, 'route', 'apply', '-f', routeFile(dirA, 100, 10));
    expect(r.code, r.stderr).toBe(0);
    await etcd.restart(0);
    await waitFor(
      'the change on B',
      async () =>
        (await routes(dirB)).find((x) => x.name === 'web')?.backends[0]?.address === '127.0.0.1:10' || undefined,
      5_000,
    );
    const onB = (await routes(dirB)).filter((x) => x.name === 'web');
    expect(onB).toHaveLength(1);
  });

  it('gives a new controller (fresh data dir, same etcd) the servers, routes and audit trail', async () => {
    const dirC = tempDir('yard-etcd-c-');
    for (const file of SHARED) copyFileSync(join(dirA, file), join(dirC, file));
    const c = await startOn(dirC, await freePort());
    try {
      const servers = JSON.parse((await yard(dirC, 'servers', '--json')).stdout) as { name: string }[];
      expect(servers.map((s) => s.name)).toContain('edge');
      expect((await routes(dirC)).map((x) => x.name)).toEqual(['web']);
      const audit = JSON.parse((await yard(dirC, 'audit', '--json')).stdout) as { action: string }[];
      expect(audit.filter((e) => /route/.test(e.action)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await c.stop();
    }
  });

  it.each([
    ['a scheme it does not know', 'consul://127.0.0.1:8500', /--store "consul:\/\/127.0.0.1:8500" is not a store/],
    ['an empty member', 'etcd://127.0.0.1:2379,', /has an empty member/],
    ['a member with no port', 'etcd://127.0.0.1', /needs a port/],
  ])('refuses %s with exit 2, naming --store', async (_what, value, message) => {
    const r = await runYard([
      'controller',
      '--data-dir',
      tempDir('yard-etcd-bad-'),
      '--listen',
      '127.0.0.1:0',
      '--store',
      value,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('says which etcd it could not reach, and stops', async () => {
    const port = await freePort();
    const r = await runYard(
      [
        'controller',
        '--data-dir',
        tempDir('yard-etcd-none-'),
        '--listen',
        '127.0.0.1:0',
        '--store',
        `etcd://127.0.0.1:${port}`,
      ],
      {},
      30_000,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`etcd at 127.0.0.1:${port}`);
  });
});
