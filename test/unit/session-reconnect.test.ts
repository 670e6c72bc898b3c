import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Backoff, WELCOME_TIMEOUT_MS } from '../../src/agent/backoff.js';
import { AgentSession } from '../../src/agent/session.js';
import { AgentLinks } from '../../src/controller/agent-links.js';
import { agentSessions } from '../../src/controller/grpc/agent-gateway.js';
import { Registry } from '../../src/controller/registry.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import { createLogger, silentLogger } from '../../src/core/log.js';
import { PROTOCOL_VERSION } from '../../src/core/version.js';
import { AgentGatewayService } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { waitFor } from '../helpers/procs.js';
import { HeartbeatBudget } from '../../src/controller/heartbeat-budget.js';

/** The agent gateway on a real gRPC server, as a restarted controller brings it back: same port, nothing remembered. */
async function gateway(port = 0): Promise<{ server: Server; port: number }> {
  const server = new Server();
  server.addService(AgentGatewayService, {
    connect: agentSessions({
      registry: new Registry({ heartbeatTtlMs: 60_000, graceMs: 60_000 }),
      links: new AgentLinks(),
      workloads: new WorkloadTable(),
      router: { report: () => undefined },
      certified: (_call, claimed) => claimed,
      controllerId: 'ctl',
      heartbeat: new HeartbeatBudget({ baseIntervalMs: 200, beatsPerSecond: 2000 }),
      log: silentLogger,
    }).connect,
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, port: bound };
}

const hello = () => ({
  protocolVersion: PROTOCOL_VERSION,
  serverId: 'srv-reconnect',
  hostname: 'h',
  name: 'h',
  addresses: [],
  mac: '',
  labels: {},
  location: '',
  agentVersion: 'test',
  advertiseAddress: '',
  transferAddress: '',
});

/**
 * Our backoff is the only one: grpc-js's channel has its own (1 s growing by 1.6x to 120 s) and
 * fails every call at once while it waits, so a controller back on its port went unseen for up to
 * two minutes. Here our backoff tops out at 1 s, so any wait of grpc-js's own shows at once.
 */
describe('AgentSession: reconnecting after a controller outage', () => {
  let session: AgentSession | undefined;
  let server: Server | undefined;
  afterEach(() => {
    session?.stop();
    server?.forceShutdown();
  });

  it('says hello within one backoff step of the controller listening again, after many failed dials', async () => {
    const first = await gateway();
    server = first.server;
    const failures: number[] = [];
    const states: { state: string; at: number }[] = [];
    session = new AgentSession({
      controllers: [`127.0.0.1:${first.port}`],
      credentials: () => credentials.createInsecure(),
      hello,
      drain: () => [],
      log: createLogger('agent', (line) => (line.includes('unreachable') ? failures.push(Date.now()) : undefined)),
      onState: (state) => states.push({ state, at: Date.now() }),
      backoff: new Backoff(100, 1000),
    });
    session.start();
    await waitFor('the first session', () => states.some((s) => s.state === 'connected') || undefined, 5000, 20);

    server.forceShutdown();
    await waitFor('the session lost', () => states.some((s) => s.state === 'disconnected') || undefined, 5000, 20);
    // Long enough for grpc-js's own backoff to grow past ours (its fifth step is about 6.5 s).
    await new Promise((r) => setTimeout(r, 20_000));
    expect(failures.length).toBeGreaterThan(10);

    server = (await gateway(first.port)).server;
    const listening = Date.now();
    const back = await waitFor(
      'the session back',
      () => states.find((s) => s.state === 'connected' && s.at >= listening),
      60_000,
      20,
    );
    const took = back.at - listening;
    const failedAfter = failures.filter((t) => t > listening + 50).length;
    // eslint-disable-next-line no-console
    console.log(
      `reconnected ${took} ms after the controller listened again (${failures.length} failed dials before, ${failedAfter} after)`,
    );
    // One step of our backoff (1 s, +20 % jitter) and a little scheduling slack.
    expect(took, `${failedAfter} dials failed after the controller was back`).toBeLessThan(1200 + 500);
  }, 60_000);

  it('says hello again when told to rejoin (what it says of itself changed), and not while it is away', async () => {
    const first = await gateway();
    server = first.server;
    const states: string[] = [];
    let hellos = 0;
    session = new AgentSession({
      controllers: [`127.0.0.1:${first.port}`],
      credentials: () => credentials.createInsecure(),
      hello: () => {
        hellos++;
        return hello();
      },
      drain: () => [],
      log: silentLogger,
      onState: (state) => states.push(state),
      backoff: new Backoff(100, 100),
    });
    session.rejoin('before the first session: nothing to do');
    session.start();
    await waitFor('the first session', () => states.includes('connected') || undefined, 5000, 20);
    session.rejoin('nvidia-smi now lists 8 GPUs');
    await waitFor(
      'the second session',
      () => states.filter((s) => s === 'connected').length === 2 || undefined,
      5000,
      20,
    );
    expect(states).toEqual(['connected', 'disconnected', 'connected']);
    expect(hellos).toBe(2);
  });

  it('dials at once when told to (SIGCONT in the agent), instead of waiting out its backoff', async () => {
    const first = await gateway();
    server = first.server;
    const states: { state: string; at: number }[] = [];
    session = new AgentSession({
      controllers: [`127.0.0.1:${first.port}`],
      credentials: () => credentials.createInsecure(),
      hello,
      drain: () => [],
      log: silentLogger,
      onState: (state) => states.push({ state, at: Date.now() }),
      backoff: new Backoff(20_000, 20_000),
    });
    session.start();
    await waitFor('the first session', () => states.some((s) => s.state === 'connected') || undefined, 5000, 20);
    server.forceShutdown();
    await waitFor('the session lost', () => states.some((s) => s.state === 'disconnected') || undefined, 5000, 20);

    server = (await gateway(first.port)).server;
    const asked = Date.now();
    session.dialNow();
    const back = await waitFor(
      'the session back',
      () => states.find((s) => s.state === 'connected' && s.at >= asked),
      5000,
      20,
    );
    expect(back.at - asked).toBeLessThan(1000);
    // Connected, it ignores the prod: no second session.
    session.dialNow();
    await new Promise((r) => setTimeout(r, 300));
    expect(states.filter((s) => s.state === 'connected')).toHaveLength(2);
  });

  it('with --controller A,B: losing A says hello to B within one first backoff step, not after a ramp', async () => {
    const a = await gateway();
    const b = await gateway();
    server = b.server;
    const states: { state: string; detail: string; at: number }[] = [];
    session = new AgentSession({
      controllers: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`],
      credentials: () => credentials.createInsecure(),
      hello,
      drain: () => [],
      log: silentLogger,
      onState: (state, detail) => states.push({ state, detail, at: Date.now() }),
      // The agent's own backoff: about 1 s doubling to 30 s.
      backoff: new Backoff(),
    });
    try {
      session.start();
      await waitFor('the session with A', () => states.find((s) => s.state === 'connected'), 5000, 20);
      expect(states[0]!.detail).toBe(`127.0.0.1:${a.port}`);
      const lost = Date.now();
      a.server.forceShutdown();
      const onB = await waitFor(
        'the session with B',
        () => states.find((s) => s.state === 'connected' && s.detail === `127.0.0.1:${b.port}`),
        5000,
        20,
      );
      // eslint-disable-next-line no-console
      console.log(`on B ${onB.at - lost} ms after A went away`);
      // One first step (1 s, +20 % jitter) and a little slack.
      expect(onB.at - lost).toBeLessThan(1200 + 500);
      expect(session.controller).toBe(`127.0.0.1:${b.port}`);
    } finally {
      a.server.forceShutdown();
    }
  });

  it('with --controller A,B and A never up: B answers after one first step', async () => {
    const dead = await gateway();
    dead.server.forceShutdown();
    const b = await gateway();
    server = b.server;
    const states: { state: string; detail: string }[] = [];
    const started = Date.now();
    session = new AgentSession({
      controllers: [`127.0.0.1:${dead.port}`, `127.0.0.1:${b.port}`],
      credentials: () => credentials.createInsecure(),
      hello,
      drain: () => [],
      log: silentLogger,
      onState: (state, detail) => states.push({ state, detail }),
      backoff: new Backoff(),
    });
    session.start();
    await waitFor('the session with B', () => states.find((s) => s.state === 'connected'), 5000, 20);
    expect(states[0]!.detail).toBe(`127.0.0.1:${b.port}`);
    expect(Date.now() - started).toBeLessThan(1200 + 500);
  });

  it('with --controller A,B and A silent (it takes the connection, never answers): B after the welcome timeout', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const b = await gateway();
    server = b.server;
    const states: { state: string; detail: string }[] = [];
    const started = Date.now();
    session = new AgentSession({
      controllers: [`127.0.0.1:${(silent.address() as AddressInfo).port}`, `127.0.0.1:${b.port}`],
      credentials: () => credentials.createInsecure(),
      hello,
      drain: () => [],
      log: silentLogger,
      onState: (state, detail) => states.push({ state, detail }),
      backoff: new Backoff(),
    });
    try {
      session.start();
      await waitFor('the session with B', () => states.find((s) => s.state === 'connected'), 15_000, 20);
      expect(states[0]!.detail).toBe(`127.0.0.1:${b.port}`);
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(WELCOME_TIMEOUT_MS);
      expect(took).toBeLessThan(WELCOME_TIMEOUT_MS + 1200 + 500);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  }, 20_000);
});
