import type { HostSample, Server } from '../../core/types.js';
import type { Migration } from '../../core/workload.js';
import type { AuditEntry } from '../audit.js';
import type { KnownWorkload, RouteState } from '../../core/domain.js';
import { read } from './operation.js';

/** Everything that happens in the fleet, as it happens, in the order the parts tell it. */
export type FleetEvent =
  | { kind: 'server'; server: Server }
  | { kind: 'serverRemoved'; id: string }
  | { kind: 'sample'; serverId: string; sample: HostSample }
  | { kind: 'workload'; workload: KnownWorkload }
  | { kind: 'workloadRemoved'; name: string; serverId: string }
  | { kind: 'migration'; migration: Migration }
  | { kind: 'route'; status: RouteState }
  | { kind: 'routeRemoved'; name: string }
  | { kind: 'audit'; entry: AuditEntry };

interface Emitter<K extends string, F> {
  on(event: K, f: F): unknown;
  off(event: K, f: F): unknown;
}

/** Calls `f` on each `event`; returns the function that stops it. */
function listen<K extends string, F>(emitter: Emitter<K, F>, event: K, f: F): () => void {
  emitter.on(event, f);
  return () => emitter.off(event, f);
}

/** Calls the listener on every fleet event; returns the function that stops it. */
export const watchFleet = read({
  name: 'fleet.watch',
  role: 'viewer',
  act: (listener: (event: FleetEvent) => void, { parts }) => {
    const { registry, workloads, coordinator, router, audit } = parts;
    const stops = [
      listen(registry, 'server', (server: Server) => listener({ kind: 'server', server })),
      listen(registry, 'removed', (id: string) => listener({ kind: 'serverRemoved', id })),
      listen(registry, 'sample', (serverId: string, sample: HostSample) =>
        listener({ kind: 'sample', serverId, sample }),
      ),
      listen(workloads, 'workload', (workload: KnownWorkload) => listener({ kind: 'workload', workload })),
      listen(workloads, 'removed', (ref: { name: string; serverId: string }) =>
        listener({ kind: 'workloadRemoved', ...ref }),
      ),
      listen(coordinator, 'migration', (migration: Migration) => listener({ kind: 'migration', migration })),
      listen(router, 'route', (status: RouteState) => listener({ kind: 'route', status })),
      listen(router, 'removed', (name: string) => listener({ kind: 'routeRemoved', name })),
      listen(audit, 'entry', (entry: AuditEntry) => listener({ kind: 'audit', entry })),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  },
});
