// An attached dashboard's source asks the controller once who it is (WhoAmI) and hands the role
// to the dashboard; a viewer's actions are refused by the controller itself, naming the role.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteFleet } from '../../src/cli/remote-fleet.js';
import { AgentLinks } from '../../src/controller/agent-links.js';
import { AuditLog } from '../../src/controller/audit.js';
import { CheckpointStore } from '../../src/controller/checkpoints.js';
import { authenticate, localAuth, type ControlAuth } from '../../src/controller/grpc/auth.js';
import { control } from '../../src/controller/grpc/control.js';
import { accessControl } from '../../src/controller/grpc/control-access.js';
import { workloadControl } from '../../src/controller/grpc/control-workloads.js';
import { Coordinator } from '../../src/controller/migration/coordinator.js';
import { Registry } from '../../src/controller/registry.js';
import { removeServer } from '../../src/controller/service/access.js';
import { Router } from '../../src/controller/router/router.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { Store } from '../../src/controller/store.js';
import { WorkloadCommands, type WorkloadCommandsParts } from '../../src/controller/workload-commands.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import type { FleetChange } from '../../src/core/fleet.js';
import { silentLogger } from '../../src/core/log.js';
import { AgentHello } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { ControlService } from '../../src/gen/switchyard/v1/control.js';
import { tempDir } from '../helpers/procs.js';
import { newCa } from './pki-fixture.js';

const servers: Server[] = [];
const fleets: RemoteFleet[] = [];
afterEach(() => {
  for (const f of fleets.splice(0)) f.close();
  for (const s of servers.splice(0)) s.forceShutdown();
});

/** A controller's Control service on a Unix socket, each caller admitted as `auth` says. */
async function controlOn(auth: ControlAuth) {
  const { ca, dataDir: dir } = await newCa(tempDir('yard-remote-role-'));
  const store = await Store.open({ file: join(dir, 'store.json') });
  const registry = new Registry({ heartbeatTtlMs: 3000, graceMs: 30_000 });
  const workloads = new WorkloadTable();
  const links = new AgentLinks();
  const checkpoints = new CheckpointStore(join(dir, 'checkpoints'));
  await checkpoints.init();
  const log = silentLogger;
  const flushSoon = () => undefined;
  const parts = {
    registry,
    workloads,
    links,
    audit: new AuditLog(store, flushSoon),
    router: new Router({ registry, workloads, links, store, log, flushSoon }),
    coordinator: new Coordinator({
      registry,
      workloads,
      links,
      checkpoints,
      store,
      log,
      maxCheckpointBytes: 2 ** 30,
      verifyMs: 1000,
      agentWaitMs: 1000,
      cpuLimitPct: 90,
    }),
    workloadCommands: new WorkloadCommands({ registry, workloads, links } as WorkloadCommandsParts),
    about: { controllerId: store.controllerId, version: 'test', listen: '127.0.0.1:0', startedMs: Date.now() },
    access: { ca, store, rotateJoinToken: async () => '', onRevoked: () => undefined },
  } as unknown as ServiceParts;
  const service = new ControllerService(parts);
  const server = new Server({ interceptors: [authenticate(auth)] });
  server.addService(ControlService, {
    ...control({ service }),
    ...workloadControl(service),
    ...accessControl(service),
  });
  const socket = join(dir, 'control.sock');
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`unix:${socket}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  servers.push(server);
  return { address: `unix:${socket}`, registry, service };
}

function attach(address: string): { fleet: RemoteFleet; changes: FleetChange[] } {
  const fleet = new RemoteFleet({ address, from: 'test' });
  fleets.push(fleet);
  const changes: FleetChange[] = [];
  fleet.subscribe((c) => changes.push(c));
  return { fleet, changes };
}

const viewerAuth: ControlAuth = { caller: () => ({ name: 'noc-wall', via: 'certificate', role: 'viewer' }) };

describe('an attached dashboard learns its role', () => {
  it('as a viewer: told before it is ready, and the controller refuses its actions naming the operator role', async () => {
    const { fleet, changes } = attach((await controlOn(viewerAuth)).address);
    expect(fleet.role).toBe('viewer');
    await fleet.ready(10_000);
    expect(fleet.role).toBe('viewer');
    expect(changes).toContainEqual({ kind: 'role', role: 'viewer' });
    await expect(fleet.actions.stopWorkload('web')).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringContaining('workload.stop needs the operator role; noc-wall (certificate) has viewer'),
    });
  });

  it('as an admin on the Unix socket', async () => {
    const { fleet, changes } = attach((await controlOn(localAuth)).address);
    await fleet.ready(10_000);
    expect(fleet.role).toBe('admin');
    expect(changes.filter((c) => c.kind === 'role')).toEqual([{ kind: 'role', role: 'admin' }]);
  });
});

describe('a removed server', () => {
  it('leaves every watching dashboard at once: the stream sends a fresh snapshot without it', async () => {
    const ctl = await controlOn(localAuth);
    for (const name of ['edge-1', 'edge-2'])
      ctl.registry.connect(AgentHello.fromPartial({ serverId: `id-${name}`, hostname: name, name }), Symbol(name));
    const { fleet, changes } = attach(ctl.address);
    await fleet.ready(10_000);
    expect(fleet.list().map((fs) => fs.server.name)).toEqual(['edge-1', 'edge-2']);
    changes.length = 0;
    await ctl.service.change({ name: 'ada', via: 'unix-socket', role: 'admin' }, removeServer, 'edge-1');
    await expect.poll(() => fleet.list().map((fs) => fs.server.name)).toEqual(['edge-2']);
    expect(changes).toContainEqual({ kind: 'server', id: 'id-edge-1' });
  });
});
