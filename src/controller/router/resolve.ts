import { formatHostPort } from '../../core/address.js';
import { ROUTE_DEFAULTS, type Backend, type Endpoint, type PlacedRoute, type Route } from '../../core/route.js';
import type { Registry } from '../registry.js';
import { isLive, type WorkloadTable } from '../workloads.js';

/**
 * What a migration does to a workload's endpoints, in memory only: the stored table never
 * changes, so ending the migration (release) restores the table as it was.
 */
export type Override =
  | { kind: 'hold' }
  | { kind: 'split'; sourceServerId: string; targetServerId: string; targetShare: number; sourceDraining: boolean };

export interface ResolveContext {
  registry: Registry;
  workloads: WorkloadTable;
  overrides: ReadonlyMap<string, Override>;
}

/** The port a workload backend dials: its own, else the workload's first --port (0: none). */
export function workloadPort(b: Backend, workloads: WorkloadTable, serverId?: string): number {
  if (b.port) return b.port;
  const here = serverId ? workloads.at(serverId, b.workload) : undefined;
  return (here ?? workloads.instances(b.workload)[0])?.spec?.ports[0] ?? 0;
}

/** Where a server's workloads are reached, or why not. */
function addressOn(ctx: ResolveContext, serverId: string, port: number): { address: string; detail: string } {
  const server = ctx.registry.get(serverId)?.server;
  if (!server) return { address: '', detail: `server ${serverId} is not known` };
  if (!port) return { address: '', detail: 'no port: give the backend a port, or run the workload with --port' };
  const host = server.advertiseAddress || server.addresses[0] || '127.0.0.1';
  return { address: formatHostPort({ host, port }), detail: '' };
}

function endpoint(route: Route, b: Backend, e: Pick<Endpoint, 'key' | 'address' | 'weight' | 'draining' | 'held' | 'detail'>): Endpoint {
  return {
    key: e.key,
    address: e.address,
    weight: e.weight,
    version: b.version,
    backend: b.workload || b.address,
    draining: e.draining,
    drainTimeoutMs: b.drainTimeoutMs || route.drainTimeoutMs || ROUTE_DEFAULTS.drainTimeoutMs,
    held: e.held,
    detail: e.detail,
  };
}

function splitEndpoints(route: Route, b: Backend, s: Extract<Override, { kind: 'split' }>, ctx: ResolveContext): Endpoint[] {
  const ends: [string, number, boolean][] = [
    [s.sourceServerId, Math.round((b.weight * (100 - s.targetShare)) / 100), s.sourceDraining || b.drain],
    [s.targetServerId, Math.round((b.weight * s.targetShare) / 100), b.drain],
  ];
  return ends.map(([serverId, weight, draining]) =>
    endpoint(route, b, { key: `${b.workload}@${serverId}`, ...addressOn(ctx, serverId, workloadPort(b, ctx.workloads, serverId)), weight, draining, held: false }),
  );
}

function workloadEndpoints(route: Route, b: Backend, ctx: ResolveContext): Endpoint[] {
  const override = ctx.overrides.get(b.workload);
  if (override?.kind === 'split') return splitEndpoints(route, b, override, ctx);
  const held = override?.kind === 'hold';
  const draining = b.drain || b.weight === 0;
  const live = ctx.workloads.instances(b.workload).filter(isLive);
  if (live.length === 0) {
    return [endpoint(route, b, { key: `${b.workload}@-`, address: '', weight: b.weight, draining, held, detail: `workload ${b.workload} is not running` })];
  }
  return live.map((w) =>
    endpoint(route, b, { key: `${b.workload}@${w.serverId}`, ...addressOn(ctx, w.serverId, workloadPort(b, ctx.workloads, w.serverId)), weight: b.weight, draining, held }),
  );
}

/** The route's backends as its proxy dials them now: workloads resolved to where they run. */
export function resolveEndpoints(route: Route, ctx: ResolveContext): Endpoint[] {
  return route.backends.flatMap((b) =>
    b.workload
      ? workloadEndpoints(route, b, ctx)
      : [endpoint(route, b, { key: b.address, address: b.address, weight: b.weight, draining: b.drain || b.weight === 0, held: false, detail: '' })],
  );
}

/** The route as its proxy gets it. */
export function placedRoute(route: Route, ctx: ResolveContext): PlacedRoute {
  return {
    name: route.name,
    listenHost: route.listen?.host || ROUTE_DEFAULTS.listenHost,
    listenPort: route.listen?.port ?? 0,
    policy: route.policy,
    healthCheck: route.healthCheck,
    endpoints: resolveEndpoints(route, ctx),
    holdTimeoutMs: route.holdTimeoutMs,
    revision: route.revision,
  };
}
