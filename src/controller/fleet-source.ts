import type { FleetChange, FleetServer, FleetSource } from '../core/fleet.js';
import type { AuditLog } from './audit.js';
import { byName } from './grpc/control.js';
import type { Coordinator } from './migration/coordinator.js';
import type { Registry } from './registry.js';
import type { WorkloadTable } from './workloads.js';

export interface EmbeddedParts {
  registry: Registry;
  workloads: WorkloadTable;
  coordinator: Coordinator;
  audit: AuditLog;
}

/**
 * The dashboard's view of an in-process controller: reads the registry directly. Its actions
 * are recorded in the audit trail as `operator`'s, like those that come over the Control API.
 */
export function registryFleetSource({ registry, workloads, coordinator, audit }: EmbeddedParts, controllerAddress: string, operator = 'dashboard'): FleetSource {
  let sorted: FleetServer[] | undefined;
  registry.on('server', () => (sorted = undefined));
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
    actions: {
      planMigration: async (workload, target, strategy) => coordinator.plan(workload, target, strategy),
      startMigration: (workload, target, strategy) =>
        audit.record(operator, 'migration.start', `${workload} → ${registry.get(target)?.server.name ?? target}`, () => coordinator.start(workload, target, strategy, operator)),
      cancelMigration: (id) => audit.record(operator, 'migration.cancel', id, () => coordinator.cancel(id)),
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
      return () => {
        registry.off('server', onServer);
        registry.off('sample', onSample);
        workloads.off('workload', onWorkload);
        workloads.off('removed', onRemoved);
        coordinator.off('migration', onMigration);
      };
    },
  };
}
