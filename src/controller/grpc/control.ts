import type { ServerWritableStream } from '@grpc/grpc-js';
import { historyOf, historyPoints } from '../../core/series-history.js';
import type { Server } from '../../core/types.js';
import { migrationDone } from '../../core/workload.js';
import type {
  ControlServer,
  GetServerRequest,
  ListServersRequest,
  ServerHistory,
  ServerSample,
  WatchFleetRequest,
  WatchFleetResponse,
} from '../../gen/switchyard/v1/control.js';
import type { ServerRecord } from '../registry.js';
import type { Caller } from '../service/caller.js';
import type { FleetEvent } from '../service/events.js';
import { watchFleet } from '../service/events.js';
import { listMigrations } from '../service/migrations.js';
import { listRoutes } from '../service/routes.js';
import { findServer, listServers, noServer, overview } from '../service/servers.js';
import type { ControllerService } from '../service/service.js';
import { listWorkloads } from '../service/workloads.js';
import { streaming, unary } from './adapt.js';
import { SERVER_PAGE_MAX, serverPage, serverPages } from './server-pages.js';

export { byName } from '../service/servers.js';

export type ServerRpcs = 'listServers' | 'getServer' | 'overview' | 'watchFleet';

export interface ControlOptions {
  service: ControllerService;
  /** Open WatchFleet streams, shared by both listeners: the dashboards and CLIs watching now. */
  watchers?: { count: number };
}

/**
 * A server as lists carry it: the latest sample without its bulky parts (per-core CPU, disks,
 * interfaces, GPU processes), so a list of thousands of hosts stays small. GetServer and the
 * WatchFleet sample events carry whole samples.
 */
function summary(server: Server): Server {
  const l = server.latest;
  // A copy either way: a snapshot sent in parts must not show changes made after it was taken.
  if (!l) return { ...server };
  return {
    ...server,
    latest: { ...l, cpuPerCorePct: [], disks: [], nets: [], gpus: l.gpus.map((g) => ({ ...g, processes: [] })) },
  };
}

/** Every server's recent readings, for a new watcher's charts, in parts of at most SERVER_PAGE_MAX servers. */
function fleetHistory(records: ServerRecord[]): ServerHistory[][] {
  const points = historyPoints(records.map((r) => r.series));
  const all = records
    .filter((r) => r.series.timestamps.length > 0)
    .map((r) => historyOf(r.server.id, r.series, points));
  const parts: ServerHistory[][] = [];
  for (let i = 0; i < all.length; i += SERVER_PAGE_MAX) parts.push(all.slice(i, i + SERVER_PAGE_MAX));
  return parts;
}

/** A fleet event as WatchFleet sends it (a removed server is told by a fresh snapshot instead). */
function message(e: Exclude<FleetEvent, { kind: 'serverRemoved' }>): WatchFleetResponse {
  switch (e.kind) {
    case 'server':
      return { event: { $case: 'server', value: e.server } };
    case 'sample':
      return { event: { $case: 'sample', value: { serverId: e.serverId, sample: e.sample, earlier: [] } } };
    case 'workload':
      return { event: { $case: 'workload', value: e.workload } };
    case 'workloadRemoved':
      return { event: { $case: 'workloadRemoved', value: { name: e.name, serverId: e.serverId } } };
    case 'migration':
      return { event: { $case: 'migration', value: e.migration } };
    case 'route':
      return { event: { $case: 'route', value: e.status } };
    case 'routeRemoved':
      return { event: { $case: 'routeRemoved', value: e.name } };
    case 'audit':
      return { event: { $case: 'audit', value: e.entry } };
  }
}

/** How long a WatchFleet stream holds host samples to send them together. */
export const SAMPLE_BATCH_MS = 250;

/** Control: servers and the fleet watch stream, over the controller service. */
export function control({ service, watchers }: ControlOptions): Pick<ControlServer, ServerRpcs> {
  const list = (caller: Caller) => service.read(caller, listServers, undefined);
  return {
    // A page at a time (server-pages.ts): one answer for a whole large fleet was over gRPC's
    // 4 MiB limit, and encoding it stalled every agent's heartbeat for its duration.
    listServers: unary((req: ListServersRequest, caller) => {
      const page = serverPage(
        list(caller).map((r) => r.server),
        req,
      );
      return { ...page, servers: page.servers.map(summary) };
    }),
    getServer: unary((req: GetServerRequest, caller) => {
      const r = service.read(caller, findServer, req.server);
      if (!r) throw noServer(req.server);
      return { server: r.server };
    }),
    overview: unary((_req, caller) => service.read(caller, overview, undefined)),
    watchFleet: streaming((call: ServerWritableStream<WatchFleetRequest, WatchFleetResponse>, caller) => {
      // Samples are dropped while the client is slow (the next one supersedes them);
      // server changes are always sent.
      let lagging = false;
      const write = (msg: WatchFleetResponse, droppable: boolean) => {
        if (droppable && lagging) return;
        if (!call.write(msg)) lagging = true;
      };
      // A snapshot (and the history before it) goes out in parts of at most SERVER_PAGE_MAX
      // servers, one part per turn of the event loop: each stays under gRPC's 4 MiB limit, and
      // agents' heartbeats are answered between parts. Whatever is sent meanwhile queues behind.
      const queue: { msg: WatchFleetResponse; droppable: boolean; part: boolean }[] = [];
      let pumping = false;
      const pump = () => {
        while (!stopped) {
          const next = queue.shift();
          if (!next) break;
          write(next.msg, next.droppable);
          if (next.part && queue.length > 0) {
            setImmediate(pump);
            return;
          }
        }
        queue.length = 0;
        pumping = false;
      };
      const enqueue = (msg: WatchFleetResponse, droppable: boolean, part = false) => {
        if (!pumping && !part) return write(msg, droppable);
        queue.push({ msg, droppable, part });
        if (pumping) return;
        pumping = true;
        pump();
      };
      // Samples go out together every SAMPLE_BATCH_MS, so a watcher of 1,000 hosts wakes a few
      // times a second, not 1,000 (its socket reads, not its decoding, were most of its time).
      // Any other event sends the held samples first: the order is the registry's.
      let held: WatchFleetResponse[] = [];
      /** The held sample message of each server, to which its later samples in the batch are added. */
      let heldOf = new Map<string, ServerSample>();
      let batchTimer: NodeJS.Timeout | undefined;
      const flushSamples = () => {
        clearTimeout(batchTimer);
        batchTimer = undefined;
        const batch = held;
        held = [];
        heldOf = new Map();
        for (const msg of batch) enqueue(msg, true);
      };
      // A migration's progress (bytes moved) may be dropped too; a change of phase never is.
      const phaseSent = new Map<string, number>();
      const droppable = (e: FleetEvent): boolean => {
        if (e.kind !== 'migration') return false;
        const m = e.migration;
        const samePhase = phaseSent.get(m.id) === m.phase;
        if (migrationDone(m.phase)) phaseSent.delete(m.id);
        else phaseSent.set(m.id, m.phase);
        return samePhase;
      };
      const send = (e: FleetEvent) => {
        if (e.kind === 'serverRemoved') {
          // The wire has no event for it: a fresh snapshot, and all that follows one, leaves the
          // server out, as after a reconnect.
          flushSamples();
          sendAll(list(caller));
          return;
        }
        if (e.kind === 'sample') {
          if (lagging) return;
          // One message per server per batch: the fan-out to each dashboard follows the servers
          // heard from, within the heartbeat budget, not the samples they carried.
          const same = heldOf.get(e.serverId);
          if (same?.sample) {
            same.earlier.push(same.sample);
            same.sample = e.sample;
            return;
          }
          const msg = message(e);
          if (msg.event?.$case === 'sample') heldOf.set(e.serverId, msg.event.value);
          held.push(msg);
          batchTimer ??= setTimeout(flushSamples, SAMPLE_BATCH_MS);
          return;
        }
        flushSamples();
        enqueue(message(e), droppable(e));
      };
      /** The snapshot of `servers`, then every workload, migration and route: what a watcher starts from. */
      const sendAll = (servers: ServerRecord[]) => {
        // The watcher starts over from the snapshot: each migration is news again.
        phaseSent.clear();
        for (const part of serverPages(servers.map((r) => summary(r.server))))
          enqueue({ event: { $case: 'snapshot', value: part } }, false, true);
        for (const workload of service.read(caller, listWorkloads, undefined)) send({ kind: 'workload', workload });
        for (const migration of service.read(caller, listMigrations, undefined)) send({ kind: 'migration', migration });
        for (const status of service.read(caller, listRoutes, undefined)) send({ kind: 'route', status });
      };
      call.on('drain', () => (lagging = false));
      let stopped = false;
      const unsubscribe = service.read(caller, watchFleet, send);
      if (watchers) watchers.count++;
      const stop = () => {
        if (stopped) return;
        stopped = true;
        clearTimeout(batchTimer);
        held = [];
        heldOf = new Map();
        if (watchers) watchers.count--;
        unsubscribe();
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
      const servers = list(caller);
      flushSamples();
      for (const part of fleetHistory(servers))
        enqueue({ event: { $case: 'history', value: { servers: part } } }, false, true);
      sendAll(servers);
    }),
  };
}
