import { Server, ServerCredentials, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentLinks } from '../../src/controller/agent-links.js';
import { agentSessions } from '../../src/controller/grpc/agent-gateway.js';
import { Registry } from '../../src/controller/registry.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import { silentLogger } from '../../src/core/log.js';
import type { RouteStats } from '../../src/core/route.js';
import { PROTOCOL_VERSION } from '../../src/core/version.js';
import {
  AgentGatewayClient,
  AgentGatewayService,
  type ConnectResponse,
} from '../../src/gen/switchyard/v1/agent_gateway.js';
import { endpointStats } from './router-fixture.js';
import { HeartbeatBudget } from '../../src/controller/heartbeat-budget.js';

const stats = (name: string, endpoints = 1): RouteStats => ({
  name,
  revision: 1,
  listening: true,
  error: '',
  heldTotal: 0,
  heldNow: 0,
  heldMaxMs: 0,
  refused: 0,
  active: 0,
  total: 0,
  endpoints: Array.from({ length: endpoints }, (_, i) => endpointStats(`127.0.0.1:${i + 1}`)),
});

/** The agent gateway on a real gRPC server: proxies' heartbeats carry route counters to the router. */
describe('AgentGateway: route counters on heartbeats', () => {
  const reports: { serverId: string; names: string[] }[] = [];
  let server: Server;
  let client: AgentGatewayClient;

  beforeAll(async () => {
    server = new Server();
    server.addService(AgentGatewayService, {
      connect: agentSessions({
        registry: new Registry({ heartbeatTtlMs: 60_000, graceMs: 60_000 }),
        links: new AgentLinks(),
        workloads: new WorkloadTable(),
        router: { report: (serverId, routes) => void reports.push({ serverId, names: routes.map((r) => r.name) }) },
        controllerId: 'ctl',
        heartbeat: new HeartbeatBudget({ baseIntervalMs: 1000, beatsPerSecond: 2000 }),
        log: silentLogger,
        // Admission has its own tests (test/integration/access.test.ts): every hello is let in here.
        certified: (_call, claimed) => claimed,
      }).connect,
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new AgentGatewayClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  /** A proxy session: hello, then the heartbeats; resolves with the acks it got and how the session ended. */
  function session(id: string, heartbeats: RouteStats[][]): Promise<{ acks: number; err?: ServiceError }> {
    const call = client.connect();
    let acks = 0;
    return new Promise((resolve) => {
      call.on('data', (r: ConnectResponse) => {
        if (r.msg?.$case === 'welcome') {
          for (const [i, routes] of heartbeats.entries())
            call.write({ msg: { $case: 'heartbeat', value: { seq: i + 1, samples: [], routes } } });
        }
        if (r.msg?.$case === 'ack' && ++acks === heartbeats.length) {
          call.end();
          resolve({ acks });
        }
      });
      call.on('error', (err: ServiceError) => resolve({ acks, err }));
      call.write({
        msg: {
          $case: 'hello',
          value: {
            protocolVersion: PROTOCOL_VERSION,
            serverId: id,
            hostname: id,
            name: id,
            addresses: [],
            mac: '',
            labels: {},
            location: '',
            agentVersion: 'test',
            advertiseAddress: '',
            transferAddress: '',
          },
        },
      });
    });
  }

  it("passes each heartbeat's routes to the router, as the proxy that sent them", async () => {
    expect(await session('edge-1', [[stats('web'), stats('api')], []])).toEqual({ acks: 2 });
    expect(reports).toEqual([{ serverId: 'edge-1', names: ['web', 'api'] }]);
  });

  it.each([
    ['more than 256 routes', [Array.from({ length: 257 }, (_, i) => stats(`r${i}`))], /heartbeat: routes/],
    ['more than 128 endpoints on a route', [[stats('web', 129)]], /heartbeat: routes\.0\.endpoints/],
  ])('refuses a heartbeat with %s', async (_what, heartbeats, message) => {
    reports.length = 0;
    const { err } = await session('edge-2', heartbeats);
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(message);
    expect(reports).toEqual([]);
  });
});
