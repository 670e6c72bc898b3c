import { Server as GrpcServer, ServerCredentials, type Metadata } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { mkdir } from 'node:fs/promises';
import { formatHostPort, isLoopback, parseHostPort } from '../core/address.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { controllerFiles } from '../core/paths.js';
import { SERVER_OPTIONS } from '../core/rpc/options.js';
import { YARD_VERSION } from '../core/version.js';
import { AgentGatewayService, type AgentGatewayServer } from '../gen/switchyard/v1/agent_gateway.js';
import { ControlService } from '../gen/switchyard/v1/control.js';
import { join } from 'node:path';
import { AgentLinks } from './agent-links.js';
import { AuditLog } from './audit.js';
import { CheckpointStore } from './checkpoints.js';
import { ConsoleBridge } from './consoles.js';
import { agentSessions } from './grpc/agent-gateway.js';
import { checkBearer } from './grpc/auth.js';
import { control } from './grpc/control.js';
import { workloadControl } from './grpc/control-workloads.js';
import { raiseConnectionWindow, raiseStreamWindow } from './grpc/windows.js';
import { Coordinator } from './migration/coordinator.js';
import { routeControl } from './grpc/control-routes.js';
import { Router } from './router/router.js';
import { WorkloadTable } from './workloads.js';
import { toServiceError } from '../core/rpc/errors.js';
import { addReflection } from './grpc/reflection.js';
import { Registry } from './registry.js';
import { readRuntime, removeRuntime, writeRuntime } from './runtime-file.js';
import { Store } from './store.js';
import { loadOrCreateToken } from './token.js';

export interface ControllerOptions {
  dataDir: string;
  /** HOST:PORT; port 0 picks a free one. */
  listen: string;
  heartbeatIntervalMs: number;
  /** A server disconnected this long is down. */
  graceMs: number;
  resetStore?: boolean;
  /** Largest checkpoint archive a migration may move (default 4 GiB). */
  maxCheckpointBytes?: number;
  /** How long a restored workload must keep running before a migration commits (default 3 s). */
  verifyMs?: number;
  /** Preflight: a target busier than this CPU % is not eligible (default 90). */
  cpuLimitPct?: number;
  log: Logger;
}

export interface Controller {
  /** Where it listens, with the real port. */
  readonly address: string;
  readonly registry: Registry;
  readonly workloads: WorkloadTable;
  readonly coordinator: Coordinator;
  /** The routing tables and the proxies that apply them. */
  readonly router: Router;
  /** Every mutating action, by whom; the embedded dashboard records its own here too. */
  readonly audit: AuditLog;
  readonly controllerId: string;
  /** The join token agents (and remote CLIs) must present when the listener is not loopback. */
  readonly token: string;
  readonly tokenRequired: boolean;
  stop(): Promise<void>;
}

/** How often the store's last-seen times are written (state changes are written at once). */
const LAST_SEEN_FLUSH_MS = 15_000;

export async function startController(opts: ControllerOptions): Promise<Controller> {
  const { log } = opts;
  const files = controllerFiles(opts.dataDir);
  const hp = parseHostPort(opts.listen, '--listen');
  await mkdir(opts.dataDir, { recursive: true });

  const running = await readRuntime(files.runtime);
  if (running && running.pid !== process.pid) {
    throw new YardError(
      'ALREADY_RUNNING',
      `a controller already runs for data dir ${opts.dataDir} (pid ${running.pid}, listening on ${running.address}); stop it first or use another --data-dir`,
      { pid: String(running.pid), address: running.address },
    );
  }

  const store = await Store.open({ file: files.store, reset: opts.resetStore });
  if (store.resetFrom) log.warn('store was unreadable and --reset-store was given: started with an empty store', { copy: store.resetFrom });
  const token = await loadOrCreateToken(files.token);
  const tokenRequired = !isLoopback(hp.host);

  const registry = new Registry({ heartbeatTtlMs: Math.max(3 * opts.heartbeatIntervalMs, 3000), graceMs: opts.graceMs });
  for (const s of store.servers()) registry.restore(s);

  // State, detail and audit changes are written soon (the journal writes itself at once).
  let flushTimer: NodeJS.Timeout | undefined;
  const flushSoon = () => {
    flushTimer ??= setTimeout(() => {
      flushTimer = undefined;
      store.flush().catch((err: unknown) => log.error('could not write the store', { file: files.store, error: errorMessage(err) }));
    }, 500);
  };
  const audit = new AuditLog(store, flushSoon);

  const workloads = new WorkloadTable();
  const links = new AgentLinks();
  const consoles = new ConsoleBridge();
  const router = new Router({ registry, workloads, links, store, log, flushSoon });
  const checkpoints = new CheckpointStore(join(opts.dataDir, 'checkpoints'));
  await checkpoints.init();
  const coordinator = new Coordinator({
    registry, workloads, links, checkpoints, store, log,
    maxCheckpointBytes: opts.maxCheckpointBytes ?? 4 * 2 ** 30,
    verifyMs: opts.verifyMs ?? 3000,
    agentWaitMs: Math.max(opts.graceMs, 10_000),
    cpuLimitPct: opts.cpuLimitPct ?? 90,
    traffic: router,
  });

  const server = new GrpcServer(SERVER_OPTIONS);
  raiseStreamWindow(server);
  const startedMs = Date.now();
  const joinToken = tokenRequired ? token : undefined;
  // Bulk and console streams authenticate like the session does when the token is required.
  const authorized = (call: { metadata: Metadata; emit(event: 'error', err: unknown): boolean }): boolean => {
    try {
      checkBearer(call.metadata, joinToken);
      return true;
    } catch (err) {
      call.emit('error', toServiceError(err));
      return false;
    }
  };
  const gateway: AgentGatewayServer = {
    ...agentSessions({ registry, links, workloads, router, controllerId: store.controllerId, heartbeatIntervalMs: opts.heartbeatIntervalMs, joinToken, log }),
    uploadCheckpoint(call, callback) {
      try {
        checkBearer(call.metadata, joinToken);
        checkpoints.upload(call, callback);
      } catch (err) {
        callback(toServiceError(err));
      }
    },
    downloadCheckpoint: (call) => void (authorized(call) && checkpoints.download(call)),
    console: (call) => void (authorized(call) && consoles.accept(call)),
  };
  server.addService(AgentGatewayService, gateway);
  const health = new HealthImplementation({ '': 'SERVING', 'switchyard.v1.AgentGateway': 'SERVING', 'switchyard.v1.Control': 'SERVING' });
  health.addToServer(server);
  addReflection(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(formatHostPort(hp), ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  ).catch((err: unknown) => {
    throw new YardError('LISTEN_FAILED', `cannot listen on ${opts.listen}: ${errorMessage(err)}; pick another with --listen`);
  });
  raiseConnectionWindow(server);
  const address = formatHostPort({ host: hp.host, port });
  server.addService(ControlService, {
    ...control({ registry, workloads, coordinator, router, controllerId: store.controllerId, version: YARD_VERSION, listen: address, startedMs, token: joinToken }),
    ...workloadControl({ registry, workloads, links, consoles, coordinator, audit, token: joinToken }),
    ...routeControl({ router, audit, token: joinToken }),
  });
  coordinator.resume();

  // Persistence: state and detail changes soon, last-seen times now and then.
  registry.on('server', (s) => {
    store.putServer(s);
    flushSoon();
  });
  const lastSeenTimer = setInterval(() => {
    for (const r of registry.list()) store.putServer(r.server);
    flushSoon();
  }, LAST_SEEN_FLUSH_MS);
  const tickTimer = setInterval(() => registry.tick(), Math.max(100, Math.min(1000, opts.graceMs / 4, opts.heartbeatIntervalMs)));

  await writeRuntime(files.runtime, { pid: process.pid, address, controllerId: store.controllerId, startedMs });
  log.info('controller listening', { address, dataDir: opts.dataDir, token: tokenRequired ? 'required' : 'not required (loopback)' });

  let stopped: Promise<void> | undefined;
  return {
    address, registry, workloads, coordinator, router, audit, controllerId: store.controllerId, token, tokenRequired,
    stop() {
      stopped ??= (async () => {
        clearInterval(lastSeenTimer);
        clearInterval(tickTimer);
        clearTimeout(flushTimer);
        router.close();
        health.setStatus('', 'NOT_SERVING');
        // Agent sessions never end by themselves; cutting them makes agents reconnect.
        server.forceShutdown();
        for (const r of registry.list()) store.putServer(r.server);
        await store.flush();
        await removeRuntime(files.runtime);
        log.info('controller stopped', { address });
      })();
      return stopped;
    },
  };
}
