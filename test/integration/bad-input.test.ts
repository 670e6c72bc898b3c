import { Client, credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSession } from '../../src/agent/session.js';
import { createLogger } from '../../src/core/log.js';
import { errorDetailOf } from '../../src/core/rpc/errors.js';
import { AgentGatewayClient } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { agentHello, refusedHello } from '../helpers/hello.js';
import { socketOf } from '../helpers/control.js';
import { agentPems, anonymousChannel, channelOf, credentialFile, operatorPems } from '../helpers/pki.js';
import {
  assertBuilt,
  freePort,
  runYard,
  startControllerProc,
  tempDir,
  waitFor,
  type YardProcess,
} from '../helpers/procs.js';

/** A raw unary call with bytes we choose: what a broken or hostile client sends. */
function rawUnary(
  address: string,
  method: string,
  body: Buffer,
  tls: ChannelCredentials,
): Promise<ServiceError | Buffer> {
  const client = new Client(address, tls);
  const metadata = new Metadata();
  return new Promise((res) => {
    client.makeUnaryRequest(
      method,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      metadata,
      (err, value) => {
        client.close();
        res(err ?? value!);
      },
    );
  });
}

describe('CLI bad input', () => {
  beforeAll(assertBuilt);

  it('rejects an unknown flag with the flag named and exit code 2', async () => {
    const r = await runYard(['servers', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown argument: bogus/);
  });

  it('says where it looked when no controller runs, in one line, exit 1', async () => {
    const dir = tempDir();
    const r = await runYard(['servers', '--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`no controller running: looked for ${join(dir, 'controller.json')}`);
  });

  it('wants a credential for --controller, and names the address when the controller given is unreachable', async () => {
    const port = await freePort();
    const bare = await runYard(['servers', '--controller', `127.0.0.1:${port}`, '--data-dir', tempDir()]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toMatch(
      /--controller 127\.0\.0\.1:\d+ is reached over TLS with an operator's credential: pass --credential FILE/,
    );
    const cred = await credentialFile(tempDir(), `127.0.0.1:${port}`, 'ops', 'viewer');
    const r = await runYard([
      'servers',
      '--controller',
      `127.0.0.1:${port}`,
      '--credential',
      cred,
      '--data-dir',
      tempDir(),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`cannot reach the controller at 127\\.0\\.0\\.1:${port} \\(from --controller\\)`),
    );
  });

  it('rejects bad durations, addresses and labels before doing anything', async () => {
    expect((await runYard(['controller', '--data-dir', tempDir(), '--grace', 'soon'])).stderr).toMatch(
      /--grace "soon" is not a duration/,
    );
    expect((await runYard(['agent', '--controller', 'nowhere'])).stderr).toMatch(
      /--controller "nowhere" is not HOST:PORT/,
    );
    expect(
      (await runYard(['agent', '--controller', '127.0.0.1:1', '--labels', 'gpu', '--data-dir', tempDir()])).stderr,
    ).toMatch(/label "gpu" is not key=value/);
  });
});

describe('a corrupt store', () => {
  it('stops the controller with the file named and a copy kept; --reset-store starts clean', async () => {
    const dir = tempDir();
    const store = join(dir, 'store.json');
    writeFileSync(store, '{"version": 1, "servers": {');
    const port = await freePort();
    const r = await runYard(['controller', '--data-dir', dir, '--listen', `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`store file ${store} is not valid JSON`);
    expect(r.stderr).toContain('--reset-store');
    expect(readFileSync(store, 'utf8')).toBe('{"version": 1, "servers": {');
    expect(readdirSync(dir).some((f) => f.startsWith('store.json.corrupt-'))).toBe(true);

    const ctl = startControllerProc(dir, port, ['--reset-store']);
    try {
      await ctl.waitForOutput(/store was unreadable and --reset-store was given.*\n(.|\n)*controller listening/);
      expect((await runYard(['servers', '--json', '--data-dir', dir])).stdout.trim()).toBe('[]');
    } finally {
      await ctl.kill();
    }
  });
});

describe('malformed, oversized and out-of-protocol gRPC', () => {
  const dir = tempDir();
  let address: string;
  let ctl: YardProcess;

  beforeAll(async () => {
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    ctl = startControllerProc(dir, port);
    await ctl.waitForOutput(/controller listening/);
    admin = channelOf(await operatorPems(dir, 'tester', 'admin'));
    anonymous = await anonymousChannel(dir);
    agent = channelOf(await agentPems(dir, 'probe'));
  });
  afterAll(() => ctl.kill('SIGKILL'));

  const stillServes = async () => {
    const r = await runYard(['status', '--data-dir', dir]);
    expect(r.code).toBe(0);
  };

  /** An admin's credential: a Control call is authenticated before its message is decoded. */
  let admin: ChannelCredentials;
  /** TLS to the controller with no credential. */
  let anonymous: ChannelCredentials;
  /** An agent's certificate, for raw hellos. */
  let agent: ChannelCredentials;

  it('answers undecodable bytes with an error status and keeps serving', async () => {
    const err = (await rawUnary(
      address,
      '/switchyard.v1.Control/ListServers',
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      admin,
    )) as ServiceError;
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toMatch(/deserializ|parse/i);
    // Without the token the bytes are never decoded: the call ends at authentication.
    const refused = (await rawUnary(
      address,
      '/switchyard.v1.Control/ListServers',
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
      anonymous,
    )) as ServiceError;
    expect(refused.code).toBe(status.UNAUTHENTICATED);
    await stillServes();
  });

  it('refuses an oversized message with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const err = (await rawUnary(
      address,
      '/switchyard.v1.Control/ListServers',
      Buffer.alloc(5 * 1024 * 1024, 0x0a),
      admin,
    )) as ServiceError;
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    await stillServes();
  });

  it('refuses an unknown protocol version with a structured, readable error', async () => {
    const { replies, err } = await refusedHello(address, agentHello({ protocolVersion: 99 }), agent);
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(errorDetailOf(err)?.code).toBe('PROTOCOL_VERSION');
    expect(err.details).toMatch(
      /speaks protocol version 99, this controller speaks 1: run the same Switchyard version on both/,
    );
    expect(replies[0]?.msg?.$case).toBe('error');
    await ctl.waitForOutput(/agent refused .*code=PROTOCOL_VERSION/);
  });

  it('the agent side logs the protocol refusal and backs off to the longest wait', async () => {
    let logged = '';
    const session = new AgentSession({
      controllers: [address],
      credentials: () => agent,
      hello: () => agentHello({ protocolVersion: 99, serverId: 'probe' }),
      drain: () => [],
      log: createLogger('agent', (l) => (logged += l)),
    });
    session.start();
    try {
      await waitFor(
        'refusal logged',
        () => /controller refused this agent: .*protocol version 99/.test(logged) || undefined,
      );
      await waitFor('backoff logged', () => /reconnecting in (2[4-9]|3[0-6])\.\ds/.test(logged) || undefined);
    } finally {
      session.stop();
    }
  });

  it('refuses invalid hello fields by name, and heartbeats before hello', async () => {
    const bad = await refusedHello(address, agentHello({ serverId: '../../etc/passwd' }), agent);
    expect(bad.err.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.err.details).toMatch(/agent hello: serverId may only hold/);

    const client = new AgentGatewayClient(address, agent);
    const call = client.connect();
    const err = await new Promise<ServiceError>((res) => {
      call.on('error', res);
      call.on('data', () => undefined);
      call.write({ msg: { $case: 'heartbeat', value: { seq: 1, samples: [], routes: [] } } });
    });
    client.close();
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/first message of a session must be a hello/);
    await stillServes();
  });

  it('names an unknown server in GetServer', async () => {
    const r = await rawUnary(
      socketOf(dir),
      '/switchyard.v1.Control/GetServer',
      Buffer.from([0x0a, 0x04, 0x6e, 0x6f, 0x70, 0x65]),
      credentials.createInsecure(),
    );
    expect((r as ServiceError).code).toBe(status.NOT_FOUND);
    expect((r as ServiceError).details).toMatch(/no server "nope"/);
  });
});
