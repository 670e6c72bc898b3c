// Several controllers sharing one CA (ca.key, ca.crt and the join secret copied into each data
// dir before its first start, as the README says to until etcd holds them), and everything that
// dials a controller given the list: the agent moves to B within a bound when A is SIGKILLed and
// its workload keeps running (same pid); the CLI with A down answers from B, and with every one
// down names each address and why; an attached dashboard keeps its last screen, marked stale,
// then shows B's fleet; bad lists are usage errors (exit 2).
import { copyFileSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ptyYard, type PtyScreen } from '../helpers/pty.js';
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

/** What is shared between controllers of one fleet: the CA (key and certificate) and the join secret. */
const SHARED = ['ca.key', 'ca.crt', 'token'];

interface ServerRow {
  name: string;
  state: string;
}

describe('failover between controllers that share a CA (--controller A,B)', () => {
  const dirA = tempDir('yard-fo-a-');
  const dirB = tempDir('yard-fo-b-');
  /** A data dir with no controller: the CLI reaches A and B over TCP with a credential. */
  const away = tempDir('yard-fo-cli-');
  const credential = join(away, 'admin.yard');
  let a: YardProcess;
  let b: YardProcess;
  let agent: YardProcess;
  let dash: PtyScreen | undefined;
  let wall: PtyScreen | undefined;
  let list = '';
  let addrA = '';
  let addrB = '';

  /** `yard COMMAND` with the list and the credential, then ARGS (a workload's command after `--`). */
  const cli = (command: string, ...args: string[]) =>
    runYard([command, '--controller', list, '--credential', credential, '--data-dir', away, ...args]);
  const servers = async (dataDir: string): Promise<ServerRow[]> => {
    const r = await runYard(['servers', '--json', '--data-dir', dataDir]);
    return r.code === 0 ? (JSON.parse(r.stdout) as ServerRow[]) : [];
  };
  const online = async (dataDir: string) =>
    (await servers(dataDir)).some((s) => s.name === 'fo-box' && s.state === 'online') || undefined;

  beforeAll(async () => {
    assertBuilt();
    const [portA, portB] = [await freePort(), await freePort()];
    addrA = `127.0.0.1:${portA}`;
    addrB = `127.0.0.1:${portB}`;
    list = `${addrA},${addrB}`;
    a = startControllerProc(dirA, portA);
    await a.waitForOutput(/controller listening/);
    for (const file of SHARED) copyFileSync(join(dirA, file), join(dirB, file));
    b = startControllerProc(dirB, portB);
    await b.waitForOutput(/controller listening/);
    const granted = await runYard([
      'access',
      'grant',
      'fo-admin',
      '--role',
      'admin',
      '--out',
      credential,
      '--data-dir',
      dirA,
    ]);
    expect(granted.code, granted.stderr).toBe(0);
    agent = startAgentProc(list, tempDir('yard-fo-agent-'), [
      '--name',
      'fo-box',
      '--nvidia-smi',
      '/nonexistent',
      ...joinArgs(dirA),
    ]);
    await waitFor('the agent online on A', () => online(dirA), 30_000, 200);
  }, 60_000);

  afterAll(async () => {
    await dash?.stop();
    await wall?.stop();
    await Promise.all([agent, a, b].map((p) => p?.kill('SIGKILL')));
  });

  it('a controller that finds a CA in its data dir uses it: both give the same join token', () => {
    expect(readFileSync(join(dirB, 'join-token'), 'utf8')).toBe(readFileSync(join(dirA, 'join-token'), 'utf8'));
  });

  it('refuses bad lists with exit 2, naming the flag and the entry', async () => {
    const cases: [string[], RegExp][] = [
      [['servers', '--controller', `${addrA},,${addrB}`], /--controller has an empty entry \(entry 2/],
      [
        ['servers', '--controller', `${addrA},127.0.0.1:99999`],
        /--controller entry "127\.0\.0\.1:99999" is not HOST:PORT/,
      ],
      [
        ['servers', '--controller', `${addrA},${addrA}`],
        /--controller names 127\.0\.0\.1:\d+ twice \(entries 1 and 2\)/,
      ],
      [['agent', '--controller', `${addrA},127.0.0.1:0`], /--controller "127\.0\.0\.1:0" \(entry 2 .*has port 0/],
      [['--connect', `${addrA},`], /--connect has an empty entry/],
      [['wall', '--connect', `${addrB},${addrB}`], /--connect names .* twice/],
    ];
    for (const [args, message] of cases) {
      const r = await runYard([...args, '--data-dir', away]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('A SIGKILLed: the agent is online on B within 3 s, its workload still running with the same pid; the CLI answers from B; the dashboard and the wall go stale, then show B', async () => {
    const run = await cli('run', '--on', 'fo-box', '--name', 'keeps', '--json', '--', 'sleep', '300');
    expect(run.code, run.stderr).toBe(0);
    const pid = await waitFor('the workload running with a pid', async () => {
      const r = await runYard(['ps', '--json', '--data-dir', dirA]);
      return (
        (JSON.parse(r.stdout) as { name: string; pid: number | null }[]).find((w) => w.name === 'keeps')?.pid ??
        undefined
      );
    });

    dash = ptyYard(['--connect', list, '--credential', credential, '--data-dir', away], { cols: 120, rows: 40 });
    await dash.waitFor(/1\/1 online/, 20_000);
    expect(dash.text()).toContain(addrA);
    wall = ptyYard(['wall', '--connect', list, '--credential', credential, '--data-dir', away, '--views', 'fleet'], {
      cols: 120,
      rows: 30,
    });
    expect((await wall.waitFor(/1\/1 online/, 20_000)).split('\n')[0]).toContain(addrA);

    const killed = Date.now();
    await a.kill('SIGKILL');
    // The last screen stays, marked stale (the banner), while the dashboard moves to B.
    const stale = await dash.waitFor(/controller unreachable since/, 5000, 20);
    expect(stale).toContain(addrA);
    expect(stale).toMatch(/fo-box/);
    expect(stale).toMatch(/\? unknown/);
    expect(stale).not.toMatch(/offline|\bdown\b/i);
    // Watched from now on, while the CLI checks below run: when each screen first shows B's fleet.
    const showsB = (screen: PtyScreen) =>
      screen
        .waitFor((t) => t.includes(addrB) && /1\/1 online/.test(t), 15_000, 20)
        .then((text) => ({ text, ms: Date.now() - killed }));
    const dashOnB = showsB(dash);
    const wallOnB = showsB(wall);
    await waitFor('the agent online on B', () => online(dirB), 10_000, 50);
    const took = Date.now() - killed;
    // eslint-disable-next-line no-console
    console.log(`agent online on B ${took} ms after A was SIGKILLed`);
    expect(took).toBeLessThanOrEqual(3000);

    // Same process, never restarted: B hears of it from the agent's snapshot.
    const onB = await waitFor('the workload listed by B', async () => {
      const r = await runYard(['ps', '--json', '--data-dir', dirB]);
      return (JSON.parse(r.stdout) as { name: string; pid: number | null; state: string }[]).find(
        (w) => w.name === 'keeps',
      );
    });
    expect(onB.pid).toBe(pid);
    expect(() => process.kill(pid, 0)).not.toThrow();

    // The CLI with A down answers from B.
    const r = await cli('servers', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as ServerRow[]).map((s) => [s.name, s.state])).toEqual([['fo-box', 'online']]);
    // A stream too (logs): the CLI settles on B before opening it.
    const logs = await cli('logs', 'keeps');
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stderr).toBe('');

    // The dashboard showed the fleet as it was, marked stale, never the host as down; then B's.
    const { text, ms: dashTook } = await dashOnB;
    expect(text).toContain('fo-box');
    expect(text).not.toMatch(/unreachable/);
    // So does the wall, on its own.
    const { text: onWall, ms: wallTook } = await wallOnB;
    expect(onWall).toContain('fo-box');
    expect(onWall).not.toMatch(/unreachable/);
    // eslint-disable-next-line no-console
    console.log(`dashboard on B's fleet within ${dashTook} ms of A's SIGKILL, the wall within ${wallTook} ms`);
    // The screens need the agent on B too (1/1 online there), and one more poll of their own.
    expect(Math.max(dashTook, wallTook)).toBeLessThanOrEqual(4000);
  }, 90_000);

  it('the CLI moves on from a controller that accepts connections but never answers, and exits', async () => {
    // A listener that takes the TCP connection and says nothing (a hung host, not a refusing one).
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const hung = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const started = Date.now();
      const r = await runYard(
        ['servers', '--json', '--controller', `${hung},${addrB}`, '--credential', credential, '--data-dir', away],
        {},
        20_000,
      );
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as ServerRow[]).map((s) => s.name)).toEqual(['fo-box']);
      // 5 s of silence from the hung one, then B at once; and it exits (no connection attempt left open).
      expect(Date.now() - started).toBeLessThan(9000);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  }, 30_000);

  it('the CLI with every controller down names each address and why', async () => {
    const [dead1, dead2] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const r = await runYard([
      'servers',
      '--controller',
      `${dead1},${dead2}`,
      '--credential',
      credential,
      '--data-dir',
      away,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no controller answered (from --controller)');
    expect(r.stderr).toContain(`${dead1}: cannot reach the controller at ${dead1}`);
    expect(r.stderr).toContain(`${dead2}: cannot reach the controller at ${dead2}`);
    expect(r.stderr).toMatch(/nothing listens there \(connection refused\)/);
  });
});
