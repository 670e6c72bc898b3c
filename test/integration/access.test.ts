// Who may do what to a running controller: the owner's CLI on its Unix socket, operators over
// TCP with the operator token (loopback included), agents with the join token once and their
// own key after — and nobody else. A real controller and real agents; the second local user is
// uid `nobody`, where the tests run as root.
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorDetailOf } from '../../src/core/rpc/errors.js';
import { AgentGatewayClient, type DownloadCheckpointResponse } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { agentHello, sayHello } from '../helpers/hello.js';
import { control, socketOf } from '../helpers/control.js';
import {
  assertBuilt,
  freePort,
  joinArgs,
  runYard,
  startAgentProc,
  startControllerProc,
  tempDir,
  waitFor,
  YARD,
  type YardProcess,
} from '../helpers/procs.js';

/** As root, with a checkout that `nobody` can read (a clone under a private home cannot be run as another user). */
function canRunAsNobody(): boolean {
  if (process.getuid?.() !== 0) return false;
  return (
    spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(YARD)}, 4)`], {
      uid: 65534,
      gid: 65534,
    }).status === 0
  );
}

/** Runs `node yard …` as uid/gid `nobody` (65534). */
function runAsNobody(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [YARD, ...args], {
      uid: 65534,
      gid: 65534,
      env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('access to a running controller', () => {
  const ctlDir = tempDir('yard-access-');
  const agentDir = tempDir('yard-access-agent-');
  let address: string;
  let ctl: YardProcess;
  const procs: YardProcess[] = [];
  let joinToken: string;
  let operatorToken: string;
  let agentId: string;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    ctl = startControllerProc(ctlDir, port);
    await ctl.waitForOutput(/controller listening/);
    joinToken = readFileSync(join(ctlDir, 'token'), 'utf8').trim();
    operatorToken = readFileSync(join(ctlDir, 'operator-token'), 'utf8').trim();
    const agent = startAgentProc(address, agentDir, [
      '--name',
      'h1',
      '--nvidia-smi',
      '/nonexistent',
      ...joinArgs(ctlDir),
    ]);
    procs.push(agent);
    await waitFor(
      'h1 online',
      async () => {
        const r = await runYard(['servers', '--json', '--data-dir', ctlDir]);
        const h1 = (JSON.parse(r.stdout) as { id: string; name: string; state: string }[]).find(
          (s) => s.name === 'h1' && s.state === 'online',
        );
        if (h1) agentId = h1.id;
        return h1?.id;
      },
      20_000,
    );
  });
  afterAll(async () => Promise.all([ctl, ...procs].map((p) => p.stop())));

  it('keeps its tokens, its socket and its data dir for its owner only', () => {
    for (const f of ['token', 'operator-token', 'control.sock'])
      expect(statSync(join(ctlDir, f)).mode & 0o077, f).toBe(0);
    expect(statSync(join(agentDir, 'agent.key')).mode & 0o077).toBe(0);
    expect(joinToken).not.toBe(operatorToken);
  });

  it('serves the CLI on its host over the Unix socket, with no token', async () => {
    const r = await runYard(['servers', '--json', '--data-dir', ctlDir]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ name: 'h1' })]);
  });

  it('wants the operator token for Control over loopback TCP, and refuses the join token there', async () => {
    const none = await runYard(['servers', '--controller', address, '--data-dir', tempDir()]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/needs the operator token over TCP/);
    const joinFile = join(tempDir(), 'join');
    writeFileSync(joinFile, joinToken, { mode: 0o600 });
    const withJoin = await runYard([
      'servers',
      '--controller',
      address,
      '--token-file',
      joinFile,
      '--data-dir',
      tempDir(),
    ]);
    expect(withJoin.code).toBe(1);
    expect(withJoin.stderr).toMatch(/that is the join token: it admits agents only/);
    const wrong = await runYard(['servers', '--controller', address, '--data-dir', tempDir()], {
      YARD_TOKEN: 'yard_op_nope',
    });
    expect(wrong.stderr).toMatch(/wrong operator token/);
    const ok = await runYard(['servers', '--json', '--controller', address, '--data-dir', tempDir()], {
      YARD_TOKEN: operatorToken,
    });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([expect.objectContaining({ name: 'h1' })]);
  });

  it('refuses a join-token holder every Control call, RunWorkload included', async () => {
    const api = control(address, joinToken);
    try {
      const err = await api
        .call(api.client.runWorkload, {
          server: 'h1',
          spec: {
            name: 'pwn',
            command: 'id',
            args: [],
            env: {},
            cwd: '',
            labels: {},
            restart: 0,
            strategy: 0,
            checkpointSignal: '',
            checkpointTimeoutMs: 0,
            ports: [],
          },
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PERMISSION_DENIED' });
    } finally {
      api.close();
    }
    expect(await control(socketOf(ctlDir)).workloads()).toEqual([]);
  });

  it('takes tokens from files or the environment, never from argv (exit 2)', async () => {
    for (const args of [
      ['agent', '--token', joinToken, '--data-dir', tempDir()],
      ['servers', '--controller', address, '--token', operatorToken],
    ]) {
      const r = await runYard(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--token is refused: a token on the command line shows in the process list/);
    }
  });

  it('admits a new agent with the join token only, and a known server id only with its own key', async () => {
    const key = (n: string) => `yard_agent_test_${n.repeat(40)}`;
    const noToken = await sayHello(address, agentHello({ serverId: 'newcomer', agentKey: key('a') }));
    expect(noToken.err?.code).toBe(status.UNAUTHENTICATED);
    expect(noToken.err?.details).toMatch(/joining without the join token/);
    const wrongToken = await sayHello(
      address,
      agentHello({ serverId: 'newcomer', agentKey: key('a'), joinToken: 'yard_nope' }),
    );
    expect(wrongToken.err?.details).toMatch(/wrong join token/);
    // The join token cannot claim a server that joined already: h1 stays h1's.
    const claim = await sayHello(
      address,
      agentHello({ serverId: agentId, name: 'impostor', agentKey: key('b'), joinToken }),
    );
    expect(claim.err?.code).toBe(status.PERMISSION_DENIED);
    expect(errorDetailOf(claim.err!)?.message).toMatch(/claims server id .* which joined with another key/);
    const servers = JSON.parse((await runYard(['servers', '--json', '--data-dir', ctlDir])).stdout) as {
      id: string;
      name: string;
      state: string;
    }[];
    expect(servers.find((s) => s.id === agentId)).toMatchObject({ name: 'h1', state: 'online' });
    // A newcomer with the token joins, and comes back later with its key alone.
    expect(await sayHello(address, agentHello({ serverId: 'newcomer', agentKey: key('c'), joinToken }))).toEqual({
      welcomed: true,
    });
    expect(await sayHello(address, agentHello({ serverId: 'newcomer', agentKey: key('c') }))).toEqual({
      welcomed: true,
    });
  });

  it('gives checkpoints only to the agents of their migration, with their key', async () => {
    const download = (md: Metadata) =>
      new Promise<ServiceError | undefined>((resolve) => {
        const client = new AgentGatewayClient(address, credentials.createInsecure());
        const call = client.downloadCheckpoint({ checkpointId: '00000000-0000-4000-8000-000000000000', offset: 0 }, md);
        call.on('data', (_: DownloadCheckpointResponse) => undefined);
        call.on('error', (err: ServiceError) => resolve(err));
        call.on('end', () => resolve(undefined));
      });
    const asJoinHolder = new Metadata();
    asJoinHolder.set('authorization', `Bearer ${joinToken}`);
    expect((await download(asJoinHolder))?.code).toBe(status.UNAUTHENTICATED);
    const asH1 = new Metadata();
    asH1.set('x-yard-server-id', agentId);
    asH1.set('authorization', `Bearer ${readFileSync(join(agentDir, 'agent.key'), 'utf8').trim()}`);
    const notItsOwn = await download(asH1);
    expect(notItsOwn?.code).toBe(status.PERMISSION_DENIED);
    expect(notItsOwn?.details).toMatch(/not this server's to download/);
  });

  it.skipIf(!canRunAsNobody())(
    'refuses a second local user: no socket, no TCP Control, no tokens to read',
    async () => {
      const viaSocket = await runAsNobody(['servers', '--data-dir', ctlDir]);
      expect(viaSocket.code).toBe(1);
      expect(viaSocket.out).toMatch(/its data dir belongs to another user/);
      const viaTcp = await runAsNobody([
        'run',
        '--on',
        'h1',
        '--name',
        'as-nobody',
        '--controller',
        address,
        '--data-dir',
        '/tmp',
        '--',
        'id',
      ]);
      expect(viaTcp.code).toBe(1);
      expect(viaTcp.out).toMatch(/needs the operator token over TCP/);
      const readToken = await new Promise<string>((resolve) => {
        const child = spawn('cat', [join(ctlDir, 'token'), join(ctlDir, 'operator-token')], { uid: 65534, gid: 65534 });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', () => resolve(err));
      });
      expect(readToken).toMatch(/Permission denied/);
      expect(await control(socketOf(ctlDir)).workloads()).toEqual([]);
    },
  );
});
