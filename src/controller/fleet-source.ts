import type { FleetChange, FleetServer, FleetSource, RouteActions, WorkloadActions } from '../core/fleet.js';
import { RouteBook } from '../core/route-book.js';
import type { Caller } from './service/caller.js';
import type { FleetEvent } from './service/events.js';
import { watchFleet } from './service/events.js';
import { listDeployments, restartDeployment, scaleDeployment, watchDeployments } from './service/deployments.js';
import { cancelMigration, listMigrations, planMigration, startMigration } from './service/migrations.js';
import { drainBackend, listRoutes, promoteRoute, rollbackRoute, setRouteWeights } from './service/routes.js';
import { findServer, listServers } from './service/servers.js';
import type { ControllerService } from './service/service.js';
import { followLogs, listWorkloads, restartWorkload, stopWorkload } from './service/workloads.js';
import { cordonServer, drainServer, uncordonServer } from './service/drain.js';

/** A fleet event as the views hear it. */
function changeOf(e: FleetEvent): FleetChange | undefined {
  switch (e.kind) {
    case 'server':
      return { kind: 'server', id: e.server.id };
    case 'serverRemoved':
      return { kind: 'server', id: e.id };
    case 'sample':
      return { kind: 'sample', id: e.serverId };
    case 'workload':
      return { kind: 'workload', name: e.workload.spec.name };
    case 'workloadRemoved':
      return { kind: 'workload', name: e.name };
    case 'migration':
      return { kind: 'migration', id: e.migration.id };
    case 'audit':
      return { kind: 'audit', entry: e.entry };
    // Routes are told by the route book, once it holds the news.
    case 'route':
    case 'routeRemoved':
      return undefined;
  }
}

/** The routes as the service tells them, with the throughput history the views draw; `listeners` hear what changed. */
function routeBook(
  service: ControllerService,
  caller: Caller,
): { book: RouteBook; listeners: Set<(change: FleetChange) => void>; hear(e: FleetEvent): void } {
  const book = new RouteBook();
  const listeners = new Set<(change: FleetChange) => void>();
  const tell = (change: FleetChange) => {
    for (const l of listeners) l(change);
  };
  book.replace(service.read(caller, listRoutes, undefined));
  const hear = (e: FleetEvent) => {
    if (e.kind === 'route') {
      const news = book.put(e.status);
      if (news) tell({ kind: 'route', name: e.status.route.name, counters: news === 'counters' });
    } else if (e.kind === 'routeRemoved' && book.remove(e.name)) {
      tell({ kind: 'route', name: e.name });
    }
  };
  return { book, listeners, hear };
}

function routeActions(service: ControllerService, caller: Caller): RouteActions {
  return {
    setRouteWeights: async (service_, weights) =>
      (await service.change(caller, setRouteWeights, { service: service_, weights })).route,
    promoteRoute: async (name, version, opts = {}) =>
      (
        await service.change(caller, promoteRoute, {
          service: name,
          version,
          steps: opts.steps ?? [],
          intervalMs: opts.intervalMs ?? 0,
        })
      ).message,
    rollbackRoute: async (name) => (await service.change(caller, rollbackRoute, name)).route,
    drainBackend: async (name, backend, deadlineMs = 0) =>
      (await service.change(caller, drainBackend, { service: name, backend, deadlineMs })).route,
  };
}

function workloadActions(service: ControllerService, caller: Caller): WorkloadActions {
  return {
    stopWorkload: (name) => service.change(caller, stopWorkload, { name, remove: false }),
    restartWorkload: (name) => service.change(caller, restartWorkload, name),
    removeWorkload: (name) => service.change(caller, stopWorkload, { name, remove: true }),
    followLogs: (name, sink) => {
      let stop: (() => void) | undefined;
      let closed = false;
      Promise.resolve()
        .then(() => service.read(caller, followLogs, { name, sink }))
        .then(
          (s) => {
            if (closed) s();
            else stop = s;
          },
          (err: Error) => sink.end(err),
        );
      return () => {
        closed = true;
        stop?.();
      };
    },
  };
}

/**
 * The dashboard of an in-process controller: a thin adapter over the controller service, which
 * it calls as `operator` (the audit trail names them, as it names Control API callers).
 */
export function registryFleetSource(
  { service }: { service: ControllerService },
  controllerAddress: string,
  operator = 'dashboard',
): FleetSource {
  // Whoever started the controller owns it, as whoever reaches its Unix socket does.
  const caller: Caller = { name: operator, via: 'embedded', role: 'admin' };
  let sorted: FleetServer[] | undefined;
  const routes = routeBook(service, caller);
  // One watch for the source's own state: the sorted list, and the route book.
  service.read(caller, watchFleet, (e) => {
    if (e.kind === 'server' || e.kind === 'serverRemoved') sorted = undefined;
    else routes.hear(e);
  });
  return {
    controllerAddress,
    mode: 'embedded',
    role: caller.role,
    list() {
      sorted ??= service.read(caller, listServers, undefined);
      return sorted;
    },
    get: (id) => service.read(caller, findServer, id),
    workloads: () => service.read(caller, listWorkloads, undefined),
    migrations: () => service.read(caller, listMigrations, undefined),
    routes: () => routes.book.list(),
    deployments: () => service.read(caller, listDeployments, undefined),
    actions: {
      planMigration: async (workload, target, strategy) =>
        service.read(caller, planMigration, { workload, target, strategy }),
      startMigration: (workload, target, strategy, opts) =>
        service.change(caller, startMigration, { workload, target, strategy, precopy: opts?.precopy }),
      cancelMigration: (id) => service.change(caller, cancelMigration, id),
      ...routeActions(service, caller),
      ...workloadActions(service, caller),
      scaleDeployment: (name, replicas) => service.change(caller, scaleDeployment, { name, replicas }),
      restartDeployment: (name) => service.change(caller, restartDeployment, name),
      cordonServer: (server, cordoned) => service.change(caller, cordoned ? cordonServer : uncordonServer, server),
      drainServer: (server) => service.change(caller, drainServer, { server, deadlineMs: 0, parallel: 0 }),
    },
    subscribe(listener: (change: FleetChange) => void) {
      const unsubscribe = service.read(caller, watchFleet, (e) => {
        const change = changeOf(e);
        if (change) listener(change);
      });
      const unwatch = service.read(caller, watchDeployments, (name) => listener({ kind: 'deployment', name }));
      routes.listeners.add(listener);
      return () => {
        unsubscribe();
        unwatch();
        routes.listeners.delete(listener);
      };
    },
  };
}
