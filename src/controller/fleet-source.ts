import { YardError } from '../core/errors.js';
import type { FleetChange, FleetServer, FleetSource, RouteActions, RouteControl, WorkloadActions } from '../core/fleet.js';
import { RouteBook } from '../core/route-book.js';
import type { RouteStatus } from '../core/route.js';
import { PromotionState } from '../gen/switchyard/v1/control.js';
import type { AuditLog } from './audit.js';
import { byName } from './grpc/control.js';
import type { Coordinator } from './migration/coordinator.js';
import type { Registry } from './registry.js';
import type { WorkloadService } from './workload-service.js';
import type { WorkloadTable } from './workloads.js';

export interface EmbeddedParts {
  registry: Registry;
  workloads: WorkloadTable;
  coordinator: Coordinator;
  audit: AuditLog;
  router: RouteControl;
  workloadService: WorkloadService;
}

/** The routes as the router tells them, with the throughput history the views draw; `listeners` hear what changed. */
function routeBook(router: RouteControl): { book: RouteBook; listeners: Set<(change: FleetChange) => void> } {
  const book = new RouteBook();
  const listeners = new Set<(change: FleetChange) => void>();
  const tell = (change: FleetChange) => {
    for (const l of listeners) l(change);
  };
  book.replace(router.list());
  router.on('route', (s) => {
    const news = book.put(s);
    if (news) tell({ kind: 'route', name: s.route?.name ?? '', counters: news === 'counters' });
  });
  router.on('removed', (name) => {
    if (book.remove(name)) tell({ kind: 'route', name });
  });
  return { book, listeners };
}

/** Route actions through the router, each in the audit trail like the Control API's. */
function routeActions(router: RouteControl, audit: AuditLog, operator: string): RouteActions {
  const routeOf = (done: Promise<{ route: RouteStatus }>) => done.then((r) => r.route);
  return {
    setRouteWeights: (service, weights) =>
      audit.record(operator, 'route.weight', `${service} ${Object.entries(weights).map(([v, w]) => `${v}=${w}`).join(' ')}`, () => routeOf(router.setWeights(service, weights, operator))),
    promoteRoute: (service, version, opts = {}) =>
      audit.record(operator, 'route.promote', `${service} → ${version}`, async () => {
        const end = await router.promote(service, version, opts, operator);
        if (end.state !== PromotionState.PROMOTION_STATE_DONE) throw new YardError('PROMOTION_REVERTED', end.message || `the promotion of ${version} on ${service} was halted and reverted`, { service, version });
        return end.message;
      }),
    rollbackRoute: (service) => audit.record(operator, 'route.rollback', service, () => routeOf(router.rollback(service, operator))),
    drainBackend: (service, backend, deadlineMs = 0) =>
      audit.record(operator, 'route.drain', `${service} ${backend}`, () => routeOf(router.drain(service, backend, deadlineMs, operator))),
  };
}

/** Workload actions through the controller's workload service, each in the audit trail like the Control API's. */
function workloadActions(service: WorkloadService, audit: AuditLog, operator: string): WorkloadActions {
  return {
    stopWorkload: (name) => audit.record(operator, 'workload.stop', name, () => service.stop(name, false)),
    restartWorkload: (name) => audit.record(operator, 'workload.restart', name, () => service.restart(name)),
    removeWorkload: (name) => audit.record(operator, 'workload.stop', `${name} (and remove)`, () => service.stop(name, true)),
    followLogs: (name, sink) => {
      let stop: (() => void) | undefined;
      let closed = false;
      service.follow(name, sink).then(
        (s) => (closed ? s() : (stop = s)),
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
 * The dashboard's view of an in-process controller: reads the registry directly. Its actions
 * are recorded in the audit trail as `operator`'s, like those that come over the Control API.
 */
export function registryFleetSource({ registry, workloads, coordinator, audit, router, workloadService }: EmbeddedParts, controllerAddress: string, operator = 'dashboard'): FleetSource {
  let sorted: FleetServer[] | undefined;
  registry.on('server', () => (sorted = undefined));
  const routes = routeBook(router);
  return {
    controllerAddress,
    mode: 'embedded',
    list() {
      sorted ??= registry.list().sort((a, b) => byName(a.server, b.server));
      return sorted;
    },
    get: (id) => registry.get(id),
    workloads: () => workloads.list(),
    migrations: () => coordinator.list(),
    routes: () => routes.book.list(),
    actions: {
      planMigration: async (workload, target, strategy) => coordinator.plan(workload, target, strategy),
      startMigration: (workload, target, strategy) =>
        audit.record(operator, 'migration.start', `${workload} → ${registry.get(target)?.server.name ?? target}`, () => coordinator.start(workload, target, strategy, operator)),
      cancelMigration: (id) => audit.record(operator, 'migration.cancel', id, () => coordinator.cancel(id)),
      ...routeActions(router, audit, operator),
      ...workloadActions(workloadService, audit, operator),
    },
    subscribe(listener: (change: FleetChange) => void) {
      const onServer = (s: { id: string }) => listener({ kind: 'server', id: s.id });
      const onSample = (id: string) => listener({ kind: 'sample', id });
      const onWorkload = (w: { spec?: { name: string } }) => listener({ kind: 'workload', name: w.spec?.name ?? '' });
      const onRemoved = (r: { name: string }) => listener({ kind: 'workload', name: r.name });
      const onMigration = (m: { id: string }) => listener({ kind: 'migration', id: m.id });
      registry.on('server', onServer);
      registry.on('sample', onSample);
      workloads.on('workload', onWorkload);
      workloads.on('removed', onRemoved);
      coordinator.on('migration', onMigration);
      routes.listeners.add(listener);
      return () => {
        registry.off('server', onServer);
        registry.off('sample', onSample);
        workloads.off('workload', onWorkload);
        workloads.off('removed', onRemoved);
        coordinator.off('migration', onMigration);
        routes.listeners.delete(listener);
      };
    },
  };
}
