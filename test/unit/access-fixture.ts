// A controller's Control service in the test's own process, on a Unix socket in a fresh data
// dir: the real service, CA, store, registry, coordinator and router, without listeners for
// agents. Each caller is admitted as `auth` says (the transport's part, which these tests do
// not exercise).
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { join } from 'node:path';
import { AgentLinks } from '../../src/controller/agent-links.js';
import { AuditLog } from '../../src/controller/audit.js';
import { CheckpointStore } from '../../src/controller/checkpoints.js';
import { authenticate, type ListenerAuth } from '../../src/controller/grpc/auth.js';
import { control } from '../../src/controller/grpc/control.js';
import { accessControl } from '../../src/controller/grpc/control-access.js';
import { workloadControl } from '../../src/controller/grpc/control-workloads.js';
import { Drainer } from '../../src/controller/drain/drainer.js';
import { drainControl } from '../../src/controller/grpc/control-drain.js';
import { Coordinator } from '../../src/controller/migration/coordinator.js';
import { Registry } from '../../src/controller/registry.js';
import { Router } from '../../src/controller/router/router.js';
import { writeRuntime } from '../../src/controller/runtime-file.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { Store } from '../../src/controller/store.js';
import { WorkloadCommands, type WorkloadCommandsParts } from '../../src/controller/workload-commands.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import { silentLogger } from '../../src/core/log.js';
import { controllerFiles } from '../../src/core/paths.js';
import { AgentHello } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { ControlService } from '../../src/gen/switchyard/v1/control.js';
import { tempDir } from '../helpers/procs.js';
import { newCa } from './pki-fixture.js';

export interface ControlFixture {
  dataDir: string;
  /** `unix:` address of its Control service. */
  address: string;
  registry: Registry;
  service: ControllerService;
  /** The serials each onRevoked call was given. */
  revoked: string[][];
  /** A server whose agent said hello (and is never heard from again). */
  connect(name: string): void;
  close(): void;
}

/**
 * Starts the Control service; with `listen`, also writes the data dir's controller.json (this
 * process's pid, `listen` as its TCP address) so the CLI finds it with --data-dir.
 */
export async function controlFixture(auth: ListenerAuth, listen?: string): Promise<ControlFixture> {
  const { ca, dataDir } = await newCa(tempDir('yard-control-'));
  const files = controllerFiles(dataDir);
  const store = await Store.open({ file: files.store });
  const registry = new Registry({ heartbeatTtlMs: 3000, graceMs: 30_000 });
  const workloads = new WorkloadTable();
  const links = new AgentLinks();
  const checkpoints = new CheckpointStore(join(dataDir, 'checkpoints'));
  await checkpoints.init();
  const log = silentLogger;
  const flushSoon = () => undefined;
  const revoked: string[][] = [];
  let rotations = 0;
  const coordinator = new Coordinator({
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
  });
  const service = new ControllerService({
    registry,
    workloads,
    links,
    audit: new AuditLog(store, flushSoon),
    router: new Router({ registry, workloads, links, store, log }),
    coordinator,
    drainer: new Drainer({ registry, workloads, coordinator, log }),
    workloadCommands: new WorkloadCommands({ registry, workloads, links } as WorkloadCommandsParts),
    about: {
      controllerId: store.controllerId,
      version: 'test',
      listen: listen ?? '127.0.0.1:0',
      startedMs: Date.now(),
      store: 'file',
    },
    controllers: () => [],
    access: {
      ca,
      store,
      rotateJoinToken: async () => `yard1.${String(++rotations).padStart(24, 'n')}.${ca.fingerprint}`,
      onRevoked: (serials: string[]) => revoked.push(serials),
    },
  } as unknown as ServiceParts);
  const server = new Server({ interceptors: [authenticate(auth)] });
  server.addService(ControlService, {
    ...control({ service }),
    ...workloadControl(service),
    ...accessControl(service),
    ...drainControl(service),
  });
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(`unix:${files.socket}`, ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  if (listen)
    await writeRuntime(files.runtime, {
      pid: process.pid,
      address: listen,
      controllerId: store.controllerId,
      startedMs: Date.now(),
    });
  return {
    dataDir,
    address: `unix:${files.socket}`,
    registry,
    service,
    revoked,
    connect: (name) =>
      void registry.connect(AgentHello.fromPartial({ serverId: `id-${name}`, hostname: name, name }), Symbol(name)),
    close: () => server.forceShutdown(),
  };
}
