// A fleet whose listing is larger than one gRPC message (4 MiB): `yard servers --json` lists all
// of it, an attached dashboard's WatchFleet snapshot arrives whole (in parts), and a real agent's
// heartbeats keep being answered while both are served.
import { credentials, Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSession } from '../../src/agent/session.js';
import { FleetMirror } from '../../src/cli/fleet-mirror.js';
import { startController, type Controller } from '../../src/controller/controller.js';
import { SERVER_PAGE_MAX } from '../../src/controller/grpc/server-pages.js';
import { silentLogger } from '../../src/core/log.js';
import { CLIENT_OPTIONS } from '../../src/core/rpc/options.js';
import { PROTOCOL_VERSION } from '../../src/core/version.js';
import type { AgentHello } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { ControlClient, ListServersResponse, type WatchFleetResponse } from '../../src/gen/switchyard/v1/control.js';
import { ServerState } from '../../src/gen/switchyard/v1/fleet.js';
import { controllerFiles } from '../../src/core/paths.js';
import { assertBuilt, runYard, tempDir, waitFor } from '../helpers/procs.js';
import { HOSTS, makeSample } from '../tui/fleet-fixture.js';

const SYNTHETIC = 6000;
const LIVE = 'live-agent';

function hello(id: string, labels: Record<string, string> = {}): AgentHello {
  return {
    protocolVersion: PROTOCOL_VERSION,
    serverId: id,
    hostname: `${id}.example`,
    name: id,
    addresses: ['10.0.0.1'],
    mac: 'aa:bb:cc:dd:ee:ff',
    labels,
    location: 'rack-1',
    agentVersion: 'test',
    advertiseAddress: '',
    transferAddress: '',
  };
}

describe('a listing larger than one gRPC message', () => {
  let ctl: Controller | undefined;
  let agent: AgentSession | undefined;
  const ctlDir = tempDir('yard-large-fleet-');
  /** When the controller handled each of the live agent's heartbeats. */
  const beats: number[] = [];

  beforeAll(async () => {
    assertBuilt();
    ctl = await startController({
      dataDir: ctlDir,
      listen: '127.0.0.1:0',
      heartbeatIntervalMs: 100,
      // The synthetic hosts below count as connected: without a budget this large they would
      // slow the live agent to one beat every 6 s (heartbeat-budget.ts), too rare to watch here.
      heartbeatBudget: 1_000_000,
      graceMs: 30_000,
      // The live agent below dials in plaintext and is taken at its word (no certificate to mint).
      benchmarkPlaintext: true,
      log: silentLogger,
    });
    // 6,000 hosts held in the registry as if connected, each with a recent sample and labels
    // enough that the whole listing cannot fit in one 4 MiB message.
    const note = 'x'.repeat(700);
    for (let i = 0; i < SYNTHETIC; i++) {
      const id = `synthetic-${String(i).padStart(5, '0')}`;
      const session = Symbol(id);
      ctl.registry.connect(hello(id, { note }), session);
      ctl.registry.heartbeat(id, session, [makeSample(HOSTS.a100, 1, Date.now())]);
    }
    ctl.registry.on('sample', (id) => (id === LIVE ? beats.push(Date.now()) : undefined));
    agent = new AgentSession({
      controllers: [ctl.address],
      credentials: () => credentials.createInsecure(),
      hello: () => hello(LIVE),
      drain: () => [makeSample(HOSTS.a100, 1, Date.now())],
      log: silentLogger,
    });
    agent.start();
    await waitFor('the live agent beating', () => beats.length >= 3 || undefined, 10_000, 20);
  }, 60_000);

  afterAll(async () => {
    agent?.stop();
    await ctl?.stop();
  });

  it('is over 4 MiB: one message could not carry it', () => {
    const servers = ctl!.registry.list().map((r) => ({ ...r.server, latest: undefined }));
    expect(ListServersResponse.encode({ servers, nextPageToken: '' }).finish().length).toBeGreaterThan(4 * 2 ** 20);
  });

  it('`yard servers --json` lists every server, while the live agent keeps beating', async () => {
    const before = beats.length;
    const started = Date.now();
    const r = await runYard(['servers', '--json', '--data-dir', ctlDir], {}, 60_000);
    const ended = Date.now();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const listed = JSON.parse(r.stdout) as { name: string }[];
    expect(listed).toHaveLength(SYNTHETIC + 1);
    expect(new Set(listed.map((s) => s.name)).size).toBe(SYNTHETIC + 1);
    // By name, across page boundaries too.
    const names = listed.map((s) => s.name);
    expect(names).toEqual([...names].sort(new Intl.Collator().compare));
    // The controller answered the agent while it served the pages: its beats went on.
    expect(beats.slice(before).some((t) => t >= started && t <= ended)).toBe(true);
    expect(ctl!.registry.get(LIVE)?.server.state).toBe(ServerState.SERVER_STATE_ONLINE);
  }, 90_000);

  it('a dashboard watching the fleet gets the whole snapshot, in parts, and samples after it', async () => {
    const client = new ControlClient(
      `unix:${controllerFiles(ctlDir).socket}`,
      credentials.createInsecure(),
      CLIENT_OPTIONS,
    );
    const mirror = new FleetMirror();
    const parts: number[] = [];
    let whole = false;
    let liveSampleAfter = false;
    const stream = client.watchFleet({}, new Metadata());
    try {
      stream.on('data', (res: WatchFleetResponse) => {
        mirror.apply(res);
        if (res.event?.$case === 'snapshot') {
          parts.push(res.event.value.servers.length);
          whole = res.event.value.nextPageToken === '';
        }
        if (whole && res.event?.$case === 'sample' && res.event.value.serverId === LIVE) liveSampleAfter = true;
      });
      stream.on('error', () => undefined);
      await waitFor('the snapshot, then a live sample', () => liveSampleAfter || undefined, 60_000, 20);
      expect(parts.length).toBe(Math.ceil((SYNTHETIC + 1) / SERVER_PAGE_MAX));
      expect(Math.max(...parts)).toBeLessThanOrEqual(SERVER_PAGE_MAX);
      expect(mirror.list()).toHaveLength(SYNTHETIC + 1);
    } finally {
      stream.cancel();
      client.close();
    }
  }, 90_000);
});
