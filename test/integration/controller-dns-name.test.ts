// One DNS name with several addresses for the controllers (`--controller ctl.yard.test:PORT`):
// two controllers on one etcd, on 127.0.0.1 and 127.0.0.2 with the same port, both certified for
// the name. The agent and the CLI run in a mount namespace of their own whose /etc/hosts gives the
// name both addresses (this machine's resolver is left alone). gRPC tries the name's addresses
// in turn: the agent is online through the name, and again after the leader is SIGKILLed and the
// other takes over; the CLI answers through the name both times.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster, etcdAvailable } from '../helpers/etcd.js';
import {
  YARD,
  YardProcess,
  assertBuilt,
  freePort,
  runYard,
  startControllerProc,
  tempDir,
  waitFor,
} from '../helpers/procs.js';

const NAME = 'ctl.yard.test';
const isRoot = process.getuid?.() === 0;

describe.skipIf(!etcdAvailable || !isRoot)('controllers behind one DNS name with several addresses', () => {
  let etcd: EtcdCluster;
  const dirs = { a: tempDir('yard-dns-a-'), b: tempDir('yard-dns-b-') };
  const ctl: { a?: YardProcess; b?: YardProcess } = {};
  let agent: YardProcess | undefined;
  let port = 0;
  const away = tempDir('yard-dns-cli-');
  const credential = join(away, 'admin.yard');
  const hosts = join(away, 'hosts');
  /** Runs the rest under a private mount of `hosts` over /etc/hosts. */
  const wrap = [
    'unshare',
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    `mount --bind ${hosts} /etc/hosts && exec "$@"`,
    'sh',
  ];

  const cliByName = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const [cmd, ...pre] = wrap;
      execFile(
        cmd!,
        [
          ...pre,
          process.execPath,
          YARD,
          ...args,
          '--controller',
          `${NAME}:${port}`,
          '--credential',
          credential,
          '--data-dir',
          away,
        ],
        { timeout: 20_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });
  const onlineOn = async (dir: string) => {
    const r = await runYard(['servers', '--json', '--data-dir', dir]);
    if (r.code !== 0) return undefined;
    return (
      (JSON.parse(r.stdout) as { name: string; state: string }[]).some(
        (s) => s.name === 'dns-box' && s.state === 'online',
      ) || undefined
    );
  };

  beforeAll(async () => {
    assertBuilt();
    writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${NAME}\n127.0.0.2 ${NAME}\n`);
    etcd = await EtcdCluster.start(1);
    port = await freePort();
    const start = (dir: string, host: string) =>
      startControllerProc(
        dir,
        port,
        ['--store', `etcd://${etcd.endpoints.join(',')}`, '--leader-ttl', '2s', '--advertise-name', NAME],
        host,
      );
    ctl.a = start(dirs.a, '127.0.0.1');
    await ctl.a.waitForOutput(/controller listening/);
    ctl.b = start(dirs.b, '127.0.0.2');
    await ctl.b.waitForOutput(/standby/);
    const granted = await runYard([
      'access',
      'grant',
      'dns-admin',
      '--role',
      'admin',
      '--out',
      credential,
      '--data-dir',
      dirs.a,
    ]);
    expect(granted.code, granted.stderr).toBe(0);
    agent = new YardProcess(
      [
        'agent',
        '--controller',
        `${NAME}:${port}`,
        '--data-dir',
        tempDir('yard-dns-agent-'),
        '--name',
        'dns-box',
        '--nvidia-smi',
        '/nonexistent',
        '--token-file',
        join(dirs.a, 'join-token'),
      ],
      {},
      wrap,
    );
    await waitFor('the agent online through the name', () => onlineOn(dirs.a), 30_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([agent?.stop(), ctl.a?.stop(), ctl.b?.stop()]);
    await etcd?.stop();
  });

  it('serves the agent and the CLI through the name, before and after the leader is SIGKILLed', {
    timeout: 90_000,
  }, async () => {
    const before = await cliByName('servers', '--json');
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain('dns-box');
    // The standby's own address, not the shared name: it passes the connection to the leader,
    // whose certificate now also names the standby's address.
    const direct = await runYard([
      'status',
      '--json',
      '--controller',
      `127.0.0.2:${port}`,
      '--credential',
      credential,
      '--data-dir',
      away,
    ]);
    expect(direct.code, direct.stderr).toBe(0);
    expect((JSON.parse(direct.stdout) as { listen: string }).listen).toBe(`127.0.0.1:${port}`);
    await ctl.a!.kill('SIGKILL');
    await ctl.b!.waitForOutput(/controller listening/, 20_000);
    await waitFor('the agent online on the new leader, through the name', () => onlineOn(dirs.b), 30_000);
    const after = await cliByName('status', '--json');
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { listen: string }).listen).toBe(`127.0.0.2:${port}`);
  });
});
