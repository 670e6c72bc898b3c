// Who may do what to a running controller: the owner's CLI on its Unix socket, operators over
// TLS with a credential and its role (loopback included), agents with the join token once and
// their certificate after, workloads with none of their agent's secrets — and nobody else. A
// real controller and real agents; the second local user is uid `nobody`, where the tests run as root.
import { type credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkloadSpec } from '../../src/core/workload.js';
import { formatJoinToken, parseJoinToken } from '../../src/core/pki/join-token.js';
import { keyRequest } from '../../src/core/pki/key-request.js';
import { newKeyPair } from '../../src/core/pki/x509.js';
import { AgentGatewayClient, type DownloadCheckpointResponse } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { control, socketOf } from '../helpers/control.js';
import { agentPems, anonymousChannel, channelOf, credentialFile } from '../helpers/pki.js';
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
  // Where `yard` puts its local agent: inside the controller's data dir.
  const agentDir = join(ctlDir, 'agent');
  let address: string;
  let ctl: YardProcess;
  const procs: YardProcess[] = [];
  let joinToken: string;
  let agentId: string;

  beforeAll(async () => {
    assertBuilt();
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    ctl = startControllerProc(ctlDir, port);
    await ctl.waitForOutput(/controller listening/);
    joinToken = readFileSync(join(ctlDir, 'join-token'), 'utf8').trim();
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

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runYard([args[0]!, '--data-dir', tempDir(), ...args.slice(1)], env);
  const spec = (name: string, command: string, args: string[] = []): WorkloadSpec => ({
    name,
    command,
    args,
    env: {},
    cwd: '',
    labels: {},
    restart: 0,
    strategy: 0,
    checkpointSignal: '',
    checkpointTimeoutMs: 0,
    ports: [],
  });

  it('keeps its keys, secrets, socket and data dir for its owner only', () => {
    for (const f of ['token', 'join-token', 'ca.key', 'server.key', 'control.sock', 'store.json'])
      expect(statSync(join(ctlDir, f)).mode & 0o077, f).toBe(0);
    for (const f of ['agent.key', 'agent.crt', 'ca.crt']) expect(statSync(join(agentDir, f)).mode & 0o077, f).toBe(0);
    expect(statSync(ctlDir).mode & 0o077).toBe(0);
    expect(joinToken).toMatch(/^yard1\.[A-Za-z0-9_-]+\.sha256:[0-9a-f]{64}$/);
  });

  it('serves the CLI on its host over the Unix socket, with no credential', async () => {
    const r = await runYard(['servers', '--json', '--data-dir', ctlDir]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ name: 'h1' })]);
  });

  it('wants a credential for Control over loopback TCP, and holds each to its role', async () => {
    const none = await cli(['servers', '--controller', address]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/is reached over TLS with an operator's credential: pass --credential FILE/);
    const viewer = await credentialFile(ctlDir, address, 'noc-wall', 'viewer');
    const reads = await cli(['servers', '--json', '--credential', viewer]);
    expect(reads.code, reads.stderr).toBe(0);
    expect(JSON.parse(reads.stdout)).toEqual([expect.objectContaining({ name: 'h1' })]);
    const runs = await cli(['run', '--on', 'h1', '--name', 'from-the-wall', '--', 'id'], { YARD_CREDENTIAL: viewer });
    expect(runs.code).toBe(1);
    expect(runs.stderr).toMatch(/workload\.run needs the operator role; noc-wall \(certificate\) has viewer/);
    const operator = await credentialFile(ctlDir, address, 'ops', 'operator');
    const ok = await cli(['run', '--on', 'h1', '--name', 'by-ops', '--credential', operator, '--', 'sleep', '30']);
    expect(ok.code, ok.stderr).toBe(0);
    const audit = await runYard(['audit', '--json', '--data-dir', ctlDir]);
    expect(audit.stdout).toMatch(/"who":\s*"ops"/);
    expect(audit.stdout).toMatch(/"who":\s*"noc-wall"/);
    await runYard(['stop', 'by-ops', '--rm', '--data-dir', ctlDir]);
  });

  it("refuses an agent's certificate every Control call, RunWorkload included", async () => {
    const api = control(address, await agentPems(ctlDir, agentId));
    try {
      const err = await api
        .call(api.client.runWorkload, { server: 'h1', spec: spec('pwn', 'id') })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PERMISSION_DENIED' });
    } finally {
      api.close();
    }
    expect((await control(socketOf(ctlDir)).workloads()).map((w) => w.spec?.name)).not.toContain('pwn');
  });

  it('takes the join token from a file or the environment, never from argv (exit 2)', async () => {
    const r = await runYard(['agent', '--token', joinToken, '--data-dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--token is refused: a token on the command line shows in the process list/);
  });

  it('a join token pinning another CA is refused before anything is sent; a wrong secret is refused by the controller', async () => {
    const { secret } = parseJoinToken(joinToken);
    const otherPin = `sha256:${'0'.repeat(64)}`;
    const file = join(tempDir(), 'token');
    writeFileSync(file, formatJoinToken({ secret, caPin: otherPin }), { mode: 0o600 });
    const before = ctl.output.length;
    const pinned = await runYard(['agent', '--controller', address, '--data-dir', tempDir(), '--token-file', file]);
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toMatch(
      /presented CA sha256:[0-9a-f]{64}, not the one the join token pins \(sha256:0{64}\).*Nothing was sent/,
    );
    // The controller never heard of it: no join, no refusal in its log.
    expect(ctl.output.slice(before)).not.toMatch(/join|refused/);
    writeFileSync(
      file,
      formatJoinToken({ secret: 'yard_wrongwrongwrongwrong', caPin: parseJoinToken(joinToken).caPin }),
      { mode: 0o600 },
    );
    const wrong = await runYard(['agent', '--controller', address, '--data-dir', tempDir(), '--token-file', file]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/presented a wrong join token/);
    const bare = join(tempDir(), 'bare');
    writeFileSync(bare, secret, { mode: 0o600 });
    const old = await runYard(['agent', '--controller', address, '--data-dir', tempDir(), '--token-file', bare]);
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/the join token is malformed: expected yard1/);
  });

  it("the join token cannot claim a server that joined already: h1 stays h1's", async () => {
    const client = new AgentGatewayClient(address, await anonymousChannel(ctlDir));
    try {
      const err = await new Promise<ServiceError | undefined>((resolve) =>
        newKeyPair()
          .then(keyRequest)
          .then((certificateRequest) =>
            client.join(
              {
                joinSecret: parseJoinToken(joinToken).secret,
                serverId: agentId,
                certificateRequest,
                hostname: 'x',
                name: 'impostor',
              },
              (e) => resolve(e ?? undefined),
            ),
          ),
      );
      expect(err?.code).toBe(status.PERMISSION_DENIED);
      expect(err?.details).toMatch(/claims server id .* which joined already and holds a certificate/);
    } finally {
      client.close();
    }
    const servers = JSON.parse((await runYard(['servers', '--json', '--data-dir', ctlDir])).stdout) as {
      id: string;
      name: string;
    }[];
    expect(servers.find((s) => s.id === agentId)).toMatchObject({ name: 'h1' });
  });

  it('gives checkpoints only to the agents of their migration, by their certificate', async () => {
    const download = async (tls: ReturnType<typeof credentials.createInsecure>) =>
      new Promise<ServiceError | undefined>((resolve) => {
        const client = new AgentGatewayClient(address, tls);
        const call = client.downloadCheckpoint(
          { checkpointId: '00000000-0000-4000-8000-000000000000', offset: 0 },
          new Metadata(),
        );
        call.on('data', (_: DownloadCheckpointResponse) => undefined);
        call.on('error', (err: ServiceError) => resolve(err));
        call.on('end', () => resolve(undefined));
      });
    expect((await download(await anonymousChannel(ctlDir)))?.code).toBe(status.UNAUTHENTICATED);
    const notItsOwn = await download(channelOf(await agentPems(ctlDir, agentId)));
    expect(notItsOwn?.code).toBe(status.PERMISSION_DENIED);
    expect(notItsOwn?.details).toMatch(/not this server's to download/);
  });

  it.skipIf(process.getuid?.() !== 0)(
    "a workload reads none of its agent's or the local controller's secrets, and cannot use the control socket",
    async () => {
      const api = control(socketOf(ctlDir));
      const probe = `for f in ${join(agentDir, 'agent.key')} ${join(ctlDir, 'ca.key')} ${join(ctlDir, 'server.key')} ${join(ctlDir, 'token')}; do printf '%s=%s\\n' "$(basename $f)" "$(wc -c < $f)"; done; env | grep -c YARD_ || true; ${process.execPath} ${YARD} servers --data-dir ${ctlDir} 2>&1 | head -1; sleep 30`;
      try {
        await api.call(api.client.runWorkload, { server: 'h1', spec: spec('snoop', '/bin/sh', ['-c', probe]) });
        const out = await waitFor(
          'the probe printed',
          async () => {
            const logs = await api.logs('snoop');
            return /token=\d+[\s\S]*\n.*(controller|socket|cannot|refused|ENOTSOCK|ECONN)/i.test(logs)
              ? logs
              : undefined;
          },
          20_000,
        );
        expect(out).toMatch(/agent\.key=0\s/);
        expect(out).toMatch(/ca\.key=0\s/);
        expect(out).toMatch(/server\.key=0\s/);
        expect(out).toMatch(/token=0\s/);
        expect(out).not.toMatch(/NAME\s+STATE/);
        // The agent itself still reads its key: the file is whole outside the workload.
        expect(readFileSync(join(agentDir, 'agent.key'), 'utf8')).toMatch(/PRIVATE KEY/);
      } finally {
        await api.call(api.client.stopWorkload, { name: 'snoop', remove: true }).catch(() => undefined);
        api.close();
      }
    },
  );

  it('keeps secrets out of the process list, the logs and --json', async () => {
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    const { secret } = parseJoinToken(joinToken);
    expect(ps).not.toContain(secret);
    expect(ctl.output).not.toContain(secret);
    expect(procs[0]!.output).not.toContain(secret);
    expect(ctl.output + procs[0]!.output).not.toMatch(/PRIVATE KEY/);
    const json = await runYard(['servers', '--json', '--data-dir', ctlDir]);
    expect(json.stdout).not.toMatch(/PRIVATE KEY|yard1\./);
  });

  it.skipIf(!canRunAsNobody())(
    'refuses a second local user: no socket, no TCP Control, no secrets to read',
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
      expect(viaTcp.out).toMatch(/is reached over TLS with an operator's credential/);
      const readSecrets = await new Promise<string>((resolve) => {
        const child = spawn('cat', [join(ctlDir, 'token'), join(ctlDir, 'ca.key'), join(agentDir, 'agent.key')], {
          uid: 65534,
          gid: 65534,
        });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', () => resolve(err));
      });
      expect(readSecrets).toMatch(/Permission denied/);
      expect((await control(socketOf(ctlDir)).workloads()).map((w) => w.spec?.name)).not.toContain('as-nobody');
    },
  );
});
