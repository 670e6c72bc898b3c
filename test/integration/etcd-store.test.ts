// The controller on a real three-member etcd (`--store etcd://…`): a second controller with an
// empty data dir takes the fleet's CA and join secret from etcd, waits as the standby and passes
// the connections it gets to the leader; a change made through the leader's socket shows through
// the standby's port at once; an etcd member killed and brought back loses nothing; what the
// controllers wrote is there for the next one (a new data dir, same etcd); bad --store values are
// usage errors (exit 2) and an etcd that is not there is said plainly.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
import { ptyYard } from '../helpers/pty.js';
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
  let portA = 0;
  let portB = 0;
  /** A data dir with no controller: the CLI reaches the standby's port with a credential. */
  const away = tempDir('yard-etcd-cli-');
  const credential = join(away, 'admin.yard');

  const yard = (dir: string, ...args: string[]) => runYard([...args, '--data-dir', dir]);
  /** Through the standby B's TCP port: served by the leader. */
  const viaB = (...args: string[]) =>
    runYard([...args, '--controller', `127.0.0.1:${portB}`, '--credential', credential, '--data-dir', away]);
  const routesOf = async (r: { code: number | null; stdout: string }): Promise<RouteRow[]> =>
    r.code === 0 ? (JSON.parse(r.stdout) as RouteRow[]) : [];
  const routes = async (dir: string) => routesOf(await yard(dir, 'routes', '--json'));
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
  const startOn = async (dir: string, port: number, ready = /controller listening/) => {
    const p = startControllerProc(dir, port, ['--store', `etcd://${store}`]);
    await p.waitForOutput(ready);
    return p;
  };

  beforeAll(async () => {
    assertBuilt();
    etcd = await EtcdCluster.start(3);
    store = etcd.endpoints.join(',');
    portA = await freePort();
    a = await startOn(dirA, portA);
    portB = await freePort();
    b = await startOn(dirB, portB, /standby/);
    const granted = await yard(dirA, 'access', 'grant', 'etcd-admin', '--role', 'admin', '--out', credential);
    expect(granted.code, granted.stderr).toBe(0);
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

  it("gives the standby, started with an empty data dir, the fleet's CA and join secret from etcd", async () => {
    for (const file of ['ca.crt', 'token'])
      expect(readFileSync(join(dirB, file), 'utf8'), file).toBe(readFileSync(join(dirA, file), 'utf8'));
    expect(statSync(join(dirB, 'ca.key')).mode & 0o077).toBe(0);
    // The same join token on either host.
    const [onA, onB] = await Promise.all([yard(dirA, 'token'), yard(dirB, 'token')]);
    expect(onB.code, onB.stderr).toBe(0);
    expect(onB.stdout).toBe(onA.stdout);
  });

  it('passes the connections made to the standby to the leader: one fleet, one id', async () => {
    expect(b!.output).toContain(`leader=127.0.0.1:${portA}`);
    const onA = JSON.parse((await yard(dirA, 'status', '--json')).stdout) as { controllerId: string };
    const r = await viaB('status', '--json');
    expect(r.code, r.stderr).toBe(0);
    const throughB = JSON.parse(r.stdout) as { controllerId: string; listen: string };
    expect(onA.controllerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(throughB.controllerId).toBe(onA.controllerId);
    expect(throughB.listen).toBe(`127.0.0.1:${portA}`);
  });

  it("shows a route applied through the leader's socket through the standby's port", async () => {
    const r = await yard(dirA, 'route', 'apply', '-f', routeFile(dirA, 100));
    expect(r.code, r.stderr).toBe(0);
    const seen = (await routesOf(await viaB('routes', '--json'))).find((x) => x.name === 'web');
    expect(seen?.backends[0]?.address).toBe('127.0.0.1:9');
    const audit = await viaB('audit', '--json');
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/route/);
  });

  it("shows a change made through the leader's socket on a dashboard attached to the standby's port within a second", async () => {
    const dash = ptyYard(['--connect', `127.0.0.1:${portB}`, '--credential', credential, '--data-dir', away], {
      cols: 120,
      rows: 40,
    });
    try {
      await dash.waitFor(/1\/1 online/, 20_000);
      await dash.waitFor(/\bweb\b/, 10_000);
      const file = join(dirA, 'shop.json');
      writeFileSync(
        file,
        JSON.stringify({
          name: 'shop',
          listen: { server: 'edge', port: await freePort(), host: '127.0.0.1' },
          backends: [{ address: '127.0.0.1:11', weight: 100 }],
        }),
      );
      const r = await yard(dirA, 'route', 'apply', '-f', file);
      expect(r.code, r.stderr).toBe(0);
      const appliedMs = Date.now();
      await dash.waitFor(/\bshop\b/, 5_000, 20);
      const tookMs = Date.now() - appliedMs;
      console.log(
        `route applied through the leader: on the standby-attached dashboard ${tookMs} ms after the CLI returned`,
      );
      expect(tookMs).toBeLessThan(1_000);
    } finally {
      await dash.stop();
    }
  });

  it('loses nothing when an etcd member is killed and brought back', async () => {
    await etcd.kill(0);
    const r = await viaB('route', 'apply', '-f', routeFile(dirA, 100, 10));
    expect(r.code, r.stderr).toBe(0);
    await etcd.restart(0);
    const onA = (await routes(dirA)).filter((x) => x.name === 'web');
    expect(onA).toHaveLength(1);
    expect(onA[0]!.backends[0]!.address).toBe('127.0.0.1:10');
    // Each change once in the audit trail, read from the member that was down.
    const audit = await viaB('audit', '--json');
    const entries = (JSON.parse(audit.stdout) as { at: string; action: string; target: string }[]).filter((e) =>
      e.action.startsWith('route'),
    );
    expect(entries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(entries.map((e) => `${e.at} ${e.action} ${e.target}`)).size, JSON.stringify(audit.stdout)).toBe(
      entries.length,
    );
  });

  it('gives a new controller (fresh data dir, same etcd) the servers, routes and audit trail', async () => {
    // The two stop (the leader resigns): the new one leads at once.
    await Promise.all([a?.stop(), b?.stop()]);
    const dirC = tempDir('yard-etcd-c-');
    const c = await startOn(dirC, await freePort());
    try {
      const servers = JSON.parse((await yard(dirC, 'servers', '--json')).stdout) as { name: string }[];
      expect(servers.map((s) => s.name)).toContain('edge');
      const web = (await routes(dirC)).filter((x) => x.name === 'web');
      expect(web.map((x) => x.backends[0]?.address)).toEqual(['127.0.0.1:10']);
      const audit = JSON.parse((await yard(dirC, 'audit', '--json')).stdout) as { action: string }[];
      expect(audit.filter((e) => /route/.test(e.action)).length).toBeGreaterThanOrEqual(2);
    } finally {
      await c.stop();
    }
  });

  it("refuses a controller whose data dir holds another CA than the fleet's, and touches neither", async () => {
    const other = tempDir('yard-etcd-other-');
    const first = await runYard(['token', '--data-dir', other]);
    expect(first.code, first.stderr).toBe(0); // makes a CA of its own there
    const ownCa = readFileSync(join(other, 'ca.crt'), 'utf8');
    const r = await runYard(
      ['controller', '--data-dir', other, '--listen', '127.0.0.1:0', '--store', `etcd://${store}`],
      {},
      30_000,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/is another CA than the fleet's in etcd/);
    expect(readFileSync(join(other, 'ca.crt'), 'utf8')).toBe(ownCa);
  });

  it.each([
    ['a scheme it does not know', 'consul://127.0.0.1:8500', /--store "consul:\/\/127.0.0.1:8500" is not a store/],
    ['an empty member', 'etcd://127.0.0.1:2379,', /has an empty member/],
    ['a member with no port', 'etcd://127.0.0.1', /needs a port/],
    [
      '--reset-store with etcd',
      'etcd://127.0.0.1:2379',
      /--reset-store starts over from an unreadable store file/,
      '--reset-store',
    ],
  ])('refuses %s with exit 2, naming the flag', async (_what, value, message, extra = '--verify=3s') => {
    const r = await runYard([
      'controller',
      '--data-dir',
      tempDir('yard-etcd-bad-'),
      '--listen',
      '127.0.0.1:0',
      '--store',
      value,
      extra,
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
