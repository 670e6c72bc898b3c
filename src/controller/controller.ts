import { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { mkdir, unlink } from 'node:fs/promises';
import { formatHostPort, parseHostPort } from '../core/address.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { controllerFiles } from '../core/paths.js';
import { SERVER_OPTIONS } from '../core/rpc/options.js';
import { YARD_VERSION } from '../core/version.js';
import { migrationDone } from '../core/workload.js';
import { AgentGatewayService, type AgentGatewayServer } from '../gen/switchyard/v1/agent_gateway.js';
import { ControlService } from '../gen/switchyard/v1/control.js';
import { join } from 'node:path';
import { AgentLinks } from './agent-links.js';
import { AuditLog } from './audit.js';
import { CheckpointStore } from './checkpoints.js';
import { ConsoleBridge } from './consoles.js';
import { agentSessions } from './grpc/agent-gateway.js';
import { AgentEnrollment } from './agent-join.js';
import {
  agentOf,
  authenticate,
  peerAddressOf,
  benchmarkPlaintextAuth,
  certificateAuth,
  localAuth,
  OpenCalls,
  type ListenerAuth,
} from './grpc/auth.js';
import { startControllerTls, writeJoinToken, type ControllerTls } from './pki/controller-tls.js';
import { control } from './grpc/control.js';
import { agentUnary } from './grpc/adapt.js';
import { workloadControl } from './grpc/control-workloads.js';
import { WorkloadCommands } from './workload-commands.js';
import { ControllerService } from './service/service.js';
import { raiseConnectionWindow, raiseStreamWindow } from './grpc/windows.js';
import { Coordinator } from './migration/coordinator.js';
import { routeControl } from './grpc/control-routes.js';
import { Router } from './router/router.js';
import { DeploymentReconciler } from './deployments/reconciler.js';
import { WorkloadTable } from './workloads.js';
import { toServiceError } from '../core/rpc/errors.js';
import { addReflection } from './grpc/reflection.js';
import { listenLocal } from './grpc/local-socket.js';
import { DEFAULT_HEARTBEATS_PER_SECOND, HeartbeatBudget } from './heartbeat-budget.js';
import { Registry } from './registry.js';
import { readRuntime, readStandby, removeRuntime, writeRuntime, writeStandby } from './runtime-file.js';
import { Store } from './store.js';
import { openEtcdStore } from './store-mirror.js';
import { EtcdStore, type OpenEtcdStoreOptions } from './store-etcd.js';
import { Leadership } from './leadership.js';
import { FollowerRelay, dialAddress } from './relay/follower.js';
import { PresenceWriter, watchPresence } from './relay/presence.js';
import { peerIdentity } from '../core/pki/identity.js';
import { serverNames } from './pki/server-names.js';
import { hostname } from 'node:os';
import { adoptFleetSecrets, publishJoinSecret } from './fleet-secrets.js';
import { loadOrCreateToken, replaceToken } from './token.js';
import { accessControl } from './grpc/control-access.js';
import { deploymentControl } from './grpc/control-deployments.js';
import { drainControl } from './grpc/control-drain.js';
import { Drainer } from './drain/drainer.js';
import { serveMetrics } from './metrics-http.js';
import { controlScrapeFile } from './scrape/scrape-file.js';
import { Scraper } from './scrape/scraper.js';
import { scrapeControl } from './grpc/control-scrape.js';
import { scrapedServerId, type ScrapeTargetInput } from '../core/schema/scrape.js';

export interface ControllerOptions {
  dataDir: string;
  /** HOST:PORT; port 0 picks a free one. */
  listen: string;
  heartbeatIntervalMs: number;
  /** Heartbeats a second the controller takes at most; a larger fleet beats less often (default 2000). */
  heartbeatBudget?: number;
  /** A server disconnected this long is down. */
  graceMs: number;
  resetStore?: boolean;
  /** Largest checkpoint archive a migration may move (default 4 GiB). */
  maxCheckpointBytes?: number;
  /**
   * Plaintext on the TCP listener instead of TLS, with agents admitted as the server id their
   * hello claims. Only for the benchmark that measures what TLS costs against this baseline:
   * no flag or config key reaches it.
   */
  benchmarkPlaintext?: boolean;
  /** Extra names (DNS or IP) clients may dial the controller by, for its certificate (`--advertise-name`). */
  advertiseNames?: string[];
  /** Keep the fleet state in etcd (`--store etcd://…`), shared with other controllers, not in store.json. */
  etcd?: { hosts: string[]; credentials?: OpenEtcdStoreOptions['credentials'] };
  /** With etcd: the leader's lease TTL in seconds (default 5): how long a dead leader holds the lead. */
  leaderTtlSeconds?: number;
  /** How long a restored workload must keep running before a migration commits (default 3 s). */
  verifyMs?: number;
  /** How often autoscaled deployments read their metric (default 15 s). */
  autoscaleMs?: number;
  /** Preflight: a target busier than this CPU % is not eligible (default 90). */
  cpuLimitPct?: number;
  /** HOST:PORT to serve Prometheus metrics on (`--metrics-listen`); none when absent. */
  metricsListen?: string;
  /** Hosts to poll from `--scrape-file`: kept in the store, and those the file no longer names forgotten. */
  scrapeFile?: { file: string; targets: ScrapeTargetInput[] };
  log: Logger;
}

export interface Controller {
  /** Where it listens, with the real port. */
  readonly address: string;
  // The parts, for tests and benches to look at and feed; operators' calls go through `service`.
  readonly registry: Registry;
  readonly workloads: WorkloadTable;
  readonly coordinator: Coordinator;
  /** The routing tables and the proxies that apply them. */
  readonly router: Router;
  /** Every mutating action, by whom, from either door. */
  readonly audit: AuditLog;
  /** The one door: what the Control API and the embedded dashboard both call. */
  readonly service: ControllerService;
  readonly controllerId: string;
  /** Admits new agents (and nothing else): `yard1.<secret>.sha256:<CA pin>`. */
  readonly joinToken: string;
  /** The controller's CA certificate (PEM): what clients trust. */
  readonly caCertPem: string;
  /** Issues a new server certificate when due at `nowMs` (a timer does this every few hours); true when it did. */
  renewServerCertificate(nowMs?: number): Promise<boolean>;
  /** The owner-only Unix socket this host's CLI and dashboards use (`unix:` address). */
  readonly socketAddress: string;
  /** Dashboards and CLIs watching the fleet now (open WatchFleet streams). */
  watchers(): number;
  stop(): Promise<void>;
}

/** How often the leader compacts etcd's history. */
const ETCD_COMPACT_MS = 5 * 60_000;

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
  const following = await readStandby(files.standby);
  if (following && following.pid !== process.pid)
    throw new YardError(
      'ALREADY_RUNNING',
      `a controller already runs for data dir ${opts.dataDir} (pid ${following.pid}, following the leader ${following.leader}); stop it first or use another --data-dir`,
      { pid: String(following.pid) },
    );

  // Several controllers on one etcd: one leads and does everything below; the others follow
  // (serving and relaying to the leader) and take over when the leader's key goes. The store is read once leading, so the
  // journal a new leader resumes from is etcd's latest.
  const etcd = opts.etcd ? await EtcdStore.open({ ...opts.etcd }) : undefined;
  let led: Awaited<ReturnType<typeof lead>> | undefined;
  if (etcd) {
    try {
      led = await lead(etcd, opts, hp.port);
    } catch (err) {
      await etcd.close();
      throw err;
    }
  }
  const leadership = led?.leadership;
  const store = etcd
    ? await openEtcdStore(etcd, opts.etcd!.hosts, log)
    : await Store.open({ file: files.store, reset: opts.resetStore });
  const listenPort = led?.port ?? hp.port;
  if (store.resetFrom)
    log.warn('store was unreadable and --reset-store was given: started with an empty store', {
      copy: store.resetFrom,
    });
  const tls =
    led?.tls ??
    (await startControllerTls({
      files,
      listenHost: hp.host,
      advertiseNames: opts.advertiseNames ?? [],
      log,
    }));
  let joinSecret = await loadOrCreateToken(files.token);
  let joinToken = await writeJoinToken(files.joinToken, joinSecret, tls.ca);
  const enrollment = new AgentEnrollment({ ca: tls.ca, store, joinSecret: () => joinSecret, log });
  const openCalls = new OpenCalls();

  const heartbeat = new HeartbeatBudget({
    baseIntervalMs: opts.heartbeatIntervalMs,
    beatsPerSecond: opts.heartbeatBudget ?? DEFAULT_HEARTBEATS_PER_SECOND,
  });
  const registry = new Registry({
    heartbeatTtlMs: () => heartbeat.ttlMs(),
    graceMs: opts.graceMs,
  });
  for (const s of store.servers()) registry.restore(s);

  // State, detail and audit changes are written soon (the journal writes itself at once).
  let flushTimer: NodeJS.Timeout | undefined;
  const flushSoon = () => {
    flushTimer ??= setTimeout(() => {
      flushTimer = undefined;
      store
        .flush()
        .catch((err: unknown) =>
          log.error('could not write the store', { store: store.backend.where, error: errorMessage(err) }),
        );
    }, 500);
  };
  const audit = new AuditLog(store, flushSoon);

  const workloads = new WorkloadTable();
  const links = new AgentLinks();
  const consoles = new ConsoleBridge();
  const router = new Router({ registry, workloads, links, store, log });
  const checkpoints = new CheckpointStore(join(opts.dataDir, 'checkpoints'));
  await checkpoints.init();
  const coordinator = new Coordinator({
    registry,
    workloads,
    links,
    checkpoints,
    store,
    log,
    maxCheckpointBytes: opts.maxCheckpointBytes ?? 4 * 2 ** 30,
    verifyMs: opts.verifyMs ?? 3000,
    agentWaitMs: Math.max(opts.graceMs, 10_000),
    cpuLimitPct: opts.cpuLimitPct ?? 90,
    traffic: router,
  });
  const deployments = new DeploymentReconciler({
    store,
    registry,
    workloads,
    links,
    router,
    audit,
    log,
    autoscaleMs: opts.autoscaleMs,
  });
  // A drain reschedules a deployment's replicas through their deployment; the rest migrate.
  const drainer = new Drainer({ registry, workloads, coordinator, log, replicas: deployments });

  // The agent's certificate, on its checkpoint and console streams; a checkpoint moves only
  // between the two servers of its migration, while it runs.
  const party = (serverId: string, checkpointId: string, side: 'source' | 'target'): void => {
    const m = coordinator.list().find((x) => x.id === checkpointId);
    const ok = m && !migrationDone(m.phase) && (side === 'source' ? m.sourceServerId : m.targetServerId) === serverId;
    if (!ok)
      throw new YardError(
        'PERMISSION_DENIED',
        `checkpoint ${checkpointId} is not this server's to ${side === 'source' ? 'upload' : 'download'}`,
      );
  };
  const refused = (call: { emit(event: 'error', err: unknown): boolean }, act: () => void): void => {
    try {
      act();
    } catch (err) {
      call.emit('error', toServiceError(err));
    }
  };
  // Which agents are connected to which controller: keys bound to each one's lease.
  const presence =
    etcd && leadership
      ? {
          mine: new PresenceWriter({
            ns: etcd.namespace,
            leaseId: () => leadership.leaseId,
            me: {
              controller: leadership.me,
              address: dialAddress(opts.listen, listenPort, opts.advertiseNames ?? [], hostname()),
            },
            log,
          }),
          all: await watchPresence(etcd.namespace, log),
        }
      : undefined;
  const sessions = agentSessions({
    ...(presence ? { presence: (serverId: string) => presence.mine.connected(serverId) } : {}),
    ...(opts.benchmarkPlaintext ? { certified: (_call: unknown, claimed: string) => claimed } : {}),
    registry,
    links,
    workloads,
    router,
    controllerId: store.controllerId,
    heartbeat,
    log,
  });
  const gateway: AgentGatewayServer = {
    connect: sessions.connect,
    join: agentUnary((call) => enrollment.join(call.request, peerAddressOf(call))),
    renewCertificate: agentUnary(async (call) => ({
      certificate: await enrollment.renew(agentOf(call), call.request.certificateRequest),
    })),
    uploadCheckpoint(call, callback) {
      try {
        const serverId = agentOf(call);
        checkpoints.upload(call, callback, (id) => party(serverId, id, 'source'));
      } catch (err) {
        callback(toServiceError(err));
      }
    },
    downloadCheckpoint: (call) =>
      refused(call, () => {
        party(agentOf(call), call.request.checkpointId, 'target');
        checkpoints.download(call);
      }),
    console: (call) =>
      refused(call, () => {
        agentOf(call);
        consoles.accept(call);
      }),
  };
  // Open calls made with revoked certificates end now; a revoked agent's session is told why.
  const onRevoked = (serials: string[]) => {
    openCalls.revoke(serials);
    const revoked = new Set(serials);
    for (const c of store.certificates())
      if (c.kind === 'agent' && revoked.has(c.serial))
        sessions.drop(c.name, new YardError('PERMISSION_DENIED', "this agent's certificate was revoked"));
  };
  const startedMs = Date.now();
  // One Control implementation, served twice: on TCP for operators with the operator token,
  // and on the owner-only Unix socket for this host's own CLI and dashboards. Each listener's
  // interceptor says who calls; the handlers hand that caller to the service.
  const watchers = { count: 0 };
  const listening = (auth: ListenerAuth) =>
    new GrpcServer({ ...SERVER_OPTIONS, interceptors: [authenticate(auth, openCalls)] });

  const server = listening(opts.benchmarkPlaintext ? benchmarkPlaintextAuth : certificateAuth(tls.ca, store));
  raiseStreamWindow(server);
  server.addService(AgentGatewayService, gateway);
  const health = new HealthImplementation({
    '': 'SERVING',
    'switchyard.v1.AgentGateway': 'SERVING',
    'switchyard.v1.Control': 'SERVING',
  });
  health.addToServer(server);
  addReflection(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      formatHostPort({ ...hp, port: listenPort }),
      opts.benchmarkPlaintext ? ServerCredentials.createInsecure() : tls.credentials,
      (err, p) => (err ? reject(err) : resolve(p)),
    ),
  ).catch((err: unknown) => {
    throw new YardError(
      'LISTEN_FAILED',
      `cannot listen on ${opts.listen}: ${errorMessage(err)}; pick another with --listen`,
    );
  });
  raiseConnectionWindow(server);
  const address = formatHostPort({ host: hp.host, port });
  const scraper = new Scraper({ registry, log });
  if (opts.scrapeFile) controlScrapeFile(store, registry, opts.scrapeFile);
  for (const t of store.scrapeTargets()) scraper.set(t);
  const service = new ControllerService({
    registry,
    workloads,
    links,
    coordinator,
    router,
    drainer,
    audit,
    deployments,
    workloadCommands: new WorkloadCommands({ registry, workloads, links, consoles }),
    access: {
      ca: tls.ca,
      store,
      async rotateJoinToken() {
        joinSecret = await replaceToken(files.token);
        if (etcd) await publishJoinSecret(etcd, files.token);
        joinToken = await writeJoinToken(files.joinToken, joinSecret, tls.ca);
        return joinToken;
      },
      onRevoked,
    },
    scrape: { scraper, store },
    about: {
      controllerId: store.controllerId,
      version: YARD_VERSION,
      listen: address,
      startedMs,
      store: opts.etcd ? `etcd ${opts.etcd.hosts.join(',')}` : 'file',
    },
    controllers: () =>
      (leadership?.list() ?? []).map((m) => ({
        address: m.address,
        leader: m.leader,
        host: m.host,
        pid: m.pid,
        sinceMs: m.sinceMs,
        agents: presence?.all.agentsOf(m.id) ?? 0,
      })),
  });
  const handlers = {
    ...control({ service, watchers }),
    ...workloadControl(service),
    ...routeControl(service),
    ...accessControl(service),
    ...deploymentControl(service),
    ...drainControl(service),
    ...scrapeControl(service),
  };
  server.addService(ControlService, handlers);

  const local = listening(localAuth);
  local.addService(ControlService, handlers);
  health.addToServer(local);
  addReflection(local);
  const socketAddress = await listenLocal(local, files.socket).catch((err: unknown) => {
    server.forceShutdown();
    throw err;
  });
  // Before the coordinator resumes: a migration it finishes is counted.
  const metrics = opts.metricsListen
    ? await serveMetrics(
        opts.metricsListen,
        { registry, router, coordinator, deployments, watchers: () => watchers.count },
        log,
      ).catch(async (err: unknown) => {
        server.forceShutdown();
        local.forceShutdown();
        await unlink(files.socket).catch(() => undefined);
        throw err;
      })
    : undefined;
  coordinator.resume();
  deployments.start();
  drainer.resume();
  scraper.start();
  // Another controller's changes, heard from a shared store: proxies here apply its routes,
  // dashboards here see its migrations, and a certificate it revoked ends its calls here too.
  store.onRemote((c) => {
    if (c.kind === 'route') router.heard(c.name);
    else if (c.kind === 'deployment') deployments.soon();
    else if (c.kind === 'scrapeTarget') {
      const target = store.scrapeTarget(c.name);
      if (target) scraper.set(target);
      else {
        // Forgotten here too, or the next last-seen pass would write its server back.
        scraper.delete(c.name);
        registry.remove(scrapedServerId(c.name));
      }
    } else if (c.kind === 'migration') coordinator.heard(c.id);
    else if (c.kind === 'certificate') {
      const cert = store.certificates().find((x) => x.serial === c.serial);
      if (cert && cert.revokedMs > 0) onRevoked([cert.serial]);
    }
  });

  // Persistence: state and detail changes soon, last-seen times now and then.
  registry.on('server', (s) => {
    store.putServer(s);
    flushSoon();
  });
  const lastSeenTimer = setInterval(() => {
    for (const r of registry.list()) store.putServer(r.server);
    flushSoon();
  }, LAST_SEEN_FLUSH_MS);
  // etcd keeps every version of every key until compacted: the leader compacts to the revision it
  // saw one period earlier (as Kubernetes' API server does), so watches that lag less than that
  // miss nothing.
  let seenRevision = 0;
  const compactTimer =
    etcd &&
    setInterval(() => {
      void (async () => {
        const now = await etcd.revision();
        if (seenRevision > 0) await etcd.compact(seenRevision);
        seenRevision = now;
      })().catch((err: unknown) => log.warn('could not compact etcd', { error: errorMessage(err) }));
    }, ETCD_COMPACT_MS);
  compactTimer?.unref();
  const tickTimer = setInterval(
    () => registry.tick(),
    Math.max(100, Math.min(1000, opts.graceMs / 4, opts.heartbeatIntervalMs)),
  );

  await writeRuntime(files.runtime, { pid: process.pid, address, controllerId: store.controllerId, startedMs });
  log.info('controller listening', { address, socket: files.socket, dataDir: opts.dataDir });

  let stopped: Promise<void> | undefined;
  return {
    address,
    registry,
    workloads,
    coordinator,
    router,
    audit,
    service,
    controllerId: store.controllerId,
    get joinToken() {
      return joinToken;
    },
    caCertPem: tls.ca.certPem,
    renewServerCertificate: (nowMs) => tls.renewIfDue(nowMs),
    socketAddress,
    watchers: () => watchers.count,
    stop() {
      stopped ??= (async () => {
        clearInterval(lastSeenTimer);
        clearInterval(compactTimer);
        clearInterval(tickTimer);
        clearTimeout(flushTimer);
        scraper.stop();
        tls.close();
        deployments.close();
        router.close();
        health.setStatus('', 'NOT_SERVING');
        // Agent sessions never end by themselves; cutting them makes agents reconnect.
        server.forceShutdown();
        local.forceShutdown();
        await metrics?.close();
        await unlink(files.socket).catch(() => undefined);
        for (const r of registry.list()) store.putServer(r.server);
        await store
          .flush()
          .catch((err: unknown) =>
            log.error('could not write the store', { store: store.backend.where, error: errorMessage(err) }),
          );
        await presence?.all.close().catch(() => undefined);
        await leadership?.resign();
        await store.close();
        await removeRuntime(files.runtime);
        log.info('controller stopped', { address });
      })();
      return stopped;
    },
  };
}

/**
 * With etcd: takes the fleet's CA and join secret, then follows (serving clients on its port and
 * relaying their calls to the leader) until this controller leads. Returns the leadership, the
 * port bound and the TLS made for it, which the leader goes on serving.
 */
async function lead(
  etcd: EtcdStore,
  opts: ControllerOptions,
  port: number,
): Promise<{ leadership: Leadership; port: number; tls: ControllerTls }> {
  const { log } = opts;
  const files = controllerFiles(opts.dataDir);
  const leadership = new Leadership({
    ns: etcd.namespace,
    ttlSeconds: opts.leaderTtlSeconds ?? 5,
    log,
    // Exiting is the surest way to stop acting at once; a supervisor starts it again as a standby.
    onLost: (why) => {
      log.error('stopping at once: this controller can no longer be sure it leads', { why });
      process.exit(1);
    },
  });
  // The fleet's CA and join secret: this controller's, if it is the first on this etcd.
  await adoptFleetSecrets(etcd, files, log);
  const listenHost = parseHostPort(opts.listen, '--listen').host;
  const tls = await startControllerTls({ files, listenHost, advertiseNames: opts.advertiseNames ?? [], log });
  const address = (p: number) => dialAddress(opts.listen, p, opts.advertiseNames ?? [], hostname());
  let presence: PresenceWriter | undefined;
  const relay = await FollowerRelay.listen({
    listen: opts.listen,
    credentials: tls.credentials,
    ca: tls.ca,
    controllerId: leadership.me,
    socket: files.socket,
    log,
    onAgentSession: (certificate) => {
      const who = peerIdentity(certificate);
      return who?.kind === 'agent' && presence ? presence.connected(who.serverId) : () => undefined;
    },
  });
  presence = new PresenceWriter({
    ns: etcd.namespace,
    leaseId: () => leadership.leaseId,
    me: { controller: leadership.me, address: address(relay.port) },
    log,
  });
  try {
    const mine = serverNames(listenHost, opts.advertiseNames ?? []);
    await leadership.campaign(
      address(relay.port),
      (at) => {
        relay.follow(at);
        // For the CLI on this host: it has no socket to answer on, but can say who leads.
        if (at) void writeStandby(files.standby, { pid: process.pid, leader: at }).catch(() => undefined);
      },
      [...mine.ips, ...mine.dns],
    );
  } catch (err) {
    tls.close();
    throw err;
  } finally {
    await relay.close();
    await removeRuntime(files.standby);
  }
  // Again once leading: the join secret may have been rotated meanwhile.
  await adoptFleetSecrets(etcd, files, log);
  return { leadership, port: relay.port || port, tls };
}
