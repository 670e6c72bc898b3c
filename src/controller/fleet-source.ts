import type { FleetChange, FleetServer, FleetSource } from '../core/fleet.js';
import { byName } from './grpc/control.js';
import type { Registry } from './registry.js';

/** The dashboard's view of an in-process controller: reads the registry directly. */
export function registryFleetSource(registry: Registry, controllerAddress: string): FleetSource {
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
    subscribe(listener: (change: FleetChange) => void) {
      const onServer = (s: { id: string }) => listener({ kind: 'server', id: s.id });
      const onSample = (id: string) => listener({ kind: 'sample', id });
      registry.on('server', onServer);
      registry.on('sample', onSample);
      return () => {
        registry.off('server', onServer);
        registry.off('sample', onSample);
      };
    },
  };
}
