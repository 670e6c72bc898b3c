import type { ServerWritableStream } from '@grpc/grpc-js';
import { YardError } from '../../core/errors.js';
import { toServiceError } from '../../core/rpc/errors.js';
import { ServerState, type HostSample, type Server } from '../../core/types.js';
import { historyOf, historyPoints } from '../../core/series-history.js';
import type { ControlServer, OverviewResponse, ServerHistory, WatchFleetRequest, WatchFleetResponse } from '../../gen/switchyard/v1/control.js';
import type { Coordinator } from '../migration/coordinator.js';
import type { Registry } from '../registry.js';
import type { Router } from '../router/router.js';
import type { RouteStatus } from '../../core/route.js';
import type { WorkloadTable } from '../workloads.js';
import { migrationDone, type Migration, type Workload } from '../../core/workload.js';
import { unary, type ControlAuth } from './auth.js';

export interface ControlOptions {
  registry: Registry;
  workloads: WorkloadTable;
  coordinator: Coordinator;
  /** Routes and their counters for the watch stream (absent: none). */
  router?: Pick<Router, 'list' | 'on' | 'off'>;
  controllerId: string;
  version: string;
  listen: string;
  startedMs: number;
  /** Who may call, on the listener these handlers serve. */
  auth: ControlAuth;
  /** Open WatchFleet streams, shared by both listeners: the dashboards and CLIs watching now. */
  watchers?: { count: number };
}

/**
 * A server as lists carry it: the latest sample without its bulky parts (per-core CPU, disks,
 * interfaces, GPU processes), so a list of thousands of hosts stays small. GetServer and the
 * WatchFleet sample events carry whole samples.
 */
export function summary(server: Server): Server {
  const l = server.latest;
  if (!l) return server;
  return { ...server, latest: { ...l, cpuPerCorePct: [], disks: [], nets: [], gpus: l.gpus.map((g) => ({ ...g, processes: [] })) } };
}

export function byName(a: Server, b: Server): number {
  return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
}


export function overview(registry: Registry, base: Omit<OverviewResponse, `servers${string}` | `gpu${string}` | 'cpuPctMean' | `memory${string}`>): OverviewResponse {
  const o: OverviewResponse = {
    ...base,
    serversTotal: 0, serversOnline: 0, serversDegraded: 0, serversDisconnected: 0, serversDown: 0,
    gpusTotal: 0, cpuPctMean: 0, memoryUsedBytes: 0, memoryTotalBytes: 0, gpuMemoryUsedMib: 0, gpuMemoryTotalMib: 0,
  };
  let reporting = 0;
  for (const { server } of registry.list()) {
    o.serversTotal++;
    if (server.state === ServerState.SERVER_STATE_ONLINE) o.serversOnline++;
    else if (server.state === ServerState.SERVER_STATE_DEGRADED) o.serversDegraded++;
    else if (server.state === ServerState.SERVER_STATE_DISCONNECTED) o.serversDisconnected++;
    else if (server.state === ServerState.SERVER_STATE_DOWN) o.serversDown++;
    o.gpusTotal += server.capabilities?.gpus.length ?? 0;
    const s = server.latest;
    if (!s || (server.state !== ServerState.SERVER_STATE_ONLINE && server.state !== ServerState.SERVER_STATE_DEGRADED)) continue;
    reporting++;
    o.cpuPctMean += s.cpuPct;
    o.memoryUsedBytes += s.memoryUsedBytes;
    o.memoryTotalBytes += s.memoryTotalBytes;
    for (const g of s.gpus) {
      o.gpuMemoryUsedMib += g.memoryUsedMib ?? 0;
      o.gpuMemoryTotalMib += g.memoryTotalMib ?? 0;
    }
  }
  o.cpuPctMean = reporting ? o.cpuPctMean / reporting : 0;
  return o;
}

/** Every server's recent readings, for a new watcher's charts. */
function fleetHistory(registry: Registry): ServerHistory[] {
  const records = registry.list();
  const points = historyPoints(records.map((r) => r.series));
  return records.filter((r) => r.series.timestamps.length > 0).map((r) => historyOf(r.server.id, r.series, points));
}

/** How long a WatchFleet stream holds host samples to send them together. */
export const SAMPLE_BATCH_MS = 250;

/** Control: what the CLI and attached dashboards ask the controller. */
export function control(opts: ControlOptions): Pick<ControlServer, 'listServers' | 'getServer' | 'overview' | 'watchFleet'> {
  const { registry, workloads, coordinator, router, auth } = opts;
  const find = (idOrName: string) => {
    const r = registry.get(idOrName);
    if (!r) throw new YardError('NOT_FOUND', `no server "${idOrName}": \`yard servers\` lists them`, { server: idOrName });
    return r.server;
  };
  const list = () => registry.list().map((r) => summary(r.server)).sort(byName);

  return {
    listServers: unary(auth, () => ({ servers: list() })),
    getServer: unary(auth, (req: { server: string }) => ({ server: find(req.server) })),
    overview: unary(auth, () =>
      overview(registry, { controllerId: opts.controllerId, version: opts.version, listen: opts.listen, startedMs: opts.startedMs }),
    ),
    watchFleet(call: ServerWritableStream<WatchFleetRequest, WatchFleetResponse>) {
      try {
        auth.check(call.metadata);
      } catch (err) {
        call.emit('error', toServiceError(err));
        return;
      }
      // Samples are dropped while the client is slow (the next one supersedes them);
      // server changes are always sent.
      let lagging = false;
      const write = (msg: WatchFleetResponse, droppable: boolean) => {
        if (droppable && lagging) return;
        if (!call.write(msg)) lagging = true;
      };
      // Samples go out together every SAMPLE_BATCH_MS, so a watcher of 1,000 hosts wakes a few
      // times a second, not 1,000 (its socket reads, not its decoding, were most of its time).
      // Any other event sends the held samples first: the order is the registry's.
      let held: WatchFleetResponse[] = [];
      let batchTimer: NodeJS.Timeout | undefined;
      const flushSamples = () => {
        clearTimeout(batchTimer);
        batchTimer = undefined;
        const batch = held;
        held = [];
        for (const msg of batch) write(msg, true);
      };
      const send = (msg: WatchFleetResponse, droppable: boolean) => {
        flushSamples();
        write(msg, droppable);
      };
      const sendSample = (msg: WatchFleetResponse) => {
        if (lagging) return;
        held.push(msg);
        batchTimer ??= setTimeout(flushSamples, SAMPLE_BATCH_MS);
      };
      const onServer = (server: Server) => send({ event: { $case: 'server', value: server } }, false);
      const onSample = (serverId: string, sample: HostSample) => sendSample({ event: { $case: 'sample', value: { serverId, sample } } });
      const onWorkload = (w: Workload) => send({ event: { $case: 'workload', value: w } }, false);
      const onRemoved = (ref: { name: string; serverId: string }) => send({ event: { $case: 'workloadRemoved', value: ref } }, false);
      // A migration's progress (bytes moved) may be dropped too; a change of phase never is.
      const phaseSent = new Map<string, number>();
      const onMigration = (m: Migration) => {
        send({ event: { $case: 'migration', value: m } }, phaseSent.get(m.id) === m.phase);
        if (migrationDone(m.phase)) phaseSent.delete(m.id);
        else phaseSent.set(m.id, m.phase);
      };
      const onRoute = (r: RouteStatus) => send({ event: { $case: 'route', value: r } }, false);
      const onRouteRemoved = (name: string) => send({ event: { $case: 'routeRemoved', value: name } }, false);
      call.on('drain', () => (lagging = false));
      registry.on('server', onServer);
      registry.on('sample', onSample);
      workloads.on('workload', onWorkload);
      workloads.on('removed', onRemoved);
      coordinator.on('migration', onMigration);
      router?.on('route', onRoute);
      router?.on('removed', onRouteRemoved);
      if (opts.watchers) opts.watchers.count++;
      let stopped = false;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        clearTimeout(batchTimer);
        held = [];
        if (opts.watchers) opts.watchers.count--;
        registry.off('server', onServer);
        registry.off('sample', onSample);
        workloads.off('workload', onWorkload);
        workloads.off('removed', onRemoved);
        coordinator.off('migration', onMigration);
        router?.off('route', onRoute);
        router?.off('removed', onRouteRemoved);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
      send({ event: { $case: 'history', value: { servers: fleetHistory(registry) } } }, false);
      send({ event: { $case: 'snapshot', value: { servers: list() } } }, false);
      for (const w of workloads.list()) onWorkload(w);
      for (const m of coordinator.list()) onMigration(m);
      for (const r of router?.list() ?? []) onRoute(r);
    },
  };
}
