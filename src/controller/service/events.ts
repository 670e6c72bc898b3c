import type { HostSample, Server } from '../../core/types.js';
import type { Migration } from '../../core/workload.js';
import type { AuditEntry } from '../audit.js';
import type { KnownWorkload, RouteState } from '../domain.js';
import { read } from './operation.js';

/** Everything that happens in the fleet, as it happens, in the order the parts tell it. */
export type FleetEvent =
  | { kind: 'server'; server: Server }
  | { kind: 'sample'; serverId: string; sample: HostSample }
  | { kind: 'workload'; workload: KnownWorkload }
  | { kind: 'workloadRemoved'; name: string; serverId: string }
  | { kind: 'migration'; migration: Migration }
  | { kind: 'route'; status: RouteState }
  | { kind: 'routeRemoved'; name: string }
  | { kind: 'audit'; entry: AuditEntry };

/** Calls the listener on every fleet event; returns the function that stops it. */
export const watchFleet = read({
  name: 'fleet.watch',
  role: 'viewer',
  act: (listener: (event: FleetEvent) => void, { parts }) => {
    const { registry, workloads, coordinator, router, audit } = parts;
    const onServer = (server: Server) => listener({ kind: 'server', server });
    const onSample = (serverId: string, sample: HostSample) => listener({ kind: 'sample', serverId, sample });
    const onWorkload = (workload: KnownWorkload) => listener({ kind: 'workload', workload });
    const onRemoved = (ref: { name: string; serverId: string }) => listener({ kind: 'workloadRemoved', ...ref });
    const onMigration = (migration: Migration) => listener({ kind: 'migration', migration });
    const onRoute = (status: RouteState) => listener({ kind: 'route', status });
    const onRouteRemoved = (name: string) => listener({ kind: 'routeRemoved', name });
    const onAudit = (entry: AuditEntry) => listener({ kind: 'audit', entry });
    registry.on('server', onServer);
    registry.on('sample', onSample);
    workloads.on('workload', onWorkload);
    workloads.on('removed', onRemoved);
    coordinator.on('migration', onMigration);
    router.on('route', onRoute);
    router.on('removed', onRouteRemoved);
    audit.on('entry', onAudit);
    return () => {
      registry.off('server', onServer);
      registry.off('sample', onSample);
      workloads.off('workload', onWorkload);
      workloads.off('removed', onRemoved);
      coordinator.off('migration', onMigration);
      router.off('route', onRoute);
      router.off('removed', onRouteRemoved);
      audit.off('entry', onAudit);
    };
  },
});
