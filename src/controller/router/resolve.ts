import { formatHostPort } from '../../core/address.js';
import { ROUTE_DEFAULTS, type Backend, type Endpoint, type PlacedRoute, type Route } from '../../core/route.js';
import type { RouteTable } from '../../core/domain.js';
import { ServerState } from '../../core/types.js';
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
  return (here ?? workloads.instances(b.workload)[0])?.spec.ports[0] ?? 0;
}

/** Where a server's workloads are reached, or why not. */
function addressOn(ctx: ResolveContext, serverId: string, port: number): { address: string; detail: string } {
  const server = ctx.registry.get(serverId)?.server;
  if (!server) return { address: '', detail: `server ${serverId} is not known` };
  if (!port) return { address: '', detail: 'no port: give the backend a port, or run the workload with --port' };
  const host = server.advertiseAddress || server.addresses[0] || '127.0.0.1';
  return { address: formatHostPort({ host, port }), detail: '' };
}

function endpoint(
  route: Route,
  b: Backend,
  e: Pick<Endpoint, 'key' | 'address' | 'weight' | 'draining' | 'held' | 'detail'>,
): Endpoint {
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

function splitEndpoints(
  route: Route,
  b: Backend,
  s: Extract<Override, { kind: 'split' }>,
  ctx: ResolveContext,
): Endpoint[] {
  const ends: [string, number, boolean][] = [
    [s.sourceServerId, Math.round((b.weight * (100 - s.targetShare)) / 100), s.sourceDraining || b.drain],
    [s.targetServerId, Math.round((b.weight * s.targetShare) / 100), b.drain],
  ];
  return ends.map(([serverId, weight, draining]) =>
    endpoint(route, b, {
      key: `${b.workload}@${serverId}`,
      ...addressOn(ctx, serverId, workloadPort(b, ctx.workloads, serverId)),
      weight,
      draining,
      held: false,
    }),
  );
}

/** Names of the servers this controller has not heard from since it started: what they run is unknown until they do (or are down). */
export function unheardServers(registry: Registry): string[] {
  return registry
    .list()
    .filter((r) => r.server.state === ServerState.SERVER_STATE_UNKNOWN)
    .map((r) => r.server.name);
}

/** "a, b, c and 4 more": a bounded list for a message. */
export function listed(names: string[]): string {
  return names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
}

/**
 * The route's workload backends that take traffic but run nowhere the controller knows of,
 * while servers it has not heard from since it started may run them: unresolved, not gone.
 */
export function unresolvedBackends(route: Route, ctx: ResolveContext): string[] {
  if (unheardServers(ctx.registry).length === 0) return [];
  return route.backends
    .filter(
      (b) =>
        b.workload &&
        !b.drain &&
        b.weight > 0 &&
        !ctx.overrides.has(b.workload) &&
        !ctx.workloads.instances(b.workload).some(isLive),
    )
    .map((b) => b.workload);
}

function notRunning(workload: string, ctx: ResolveContext): string {
  const unheard = unheardServers(ctx.registry);
  return unheard.length > 0
    ? `workload ${workload} is not known to run anywhere yet: not heard from ${listed(unheard)} since the controller started`
    : `workload ${workload} is not running`;
}

function workloadEndpoints(route: Route, b: Backend, ctx: ResolveContext): Endpoint[] {
  const override = ctx.overrides.get(b.workload);
  if (override?.kind === 'split') return splitEndpoints(route, b, override, ctx);
  const held = override?.kind === 'hold';
  // Drained by an operator; a weight of 0 alone is a standby (its proxy sends it no new connections either way).
  const draining = b.drain;
  const live = ctx.workloads.instances(b.workload).filter(isLive);
  if (live.length === 0) {
    return [
      endpoint(route, b, {
        key: `${b.workload}@-`,
        address: '',
        weight: b.weight,
        draining,
        held,
        detail: notRunning(b.workload, ctx),
      }),
    ];
  }
  return live.map((w) =>
    endpoint(route, b, {
      key: `${b.workload}@${w.serverId}`,
      ...addressOn(ctx, w.serverId, workloadPort(b, ctx.workloads, w.serverId)),
      weight: b.weight,
      draining,
      held,
    }),
  );
}

/** The route's backends as its proxy dials them now: workloads resolved to where they run. */
export function resolveEndpoints(route: Route, ctx: ResolveContext): Endpoint[] {
  return route.backends.flatMap((b) =>
    b.workload
      ? workloadEndpoints(route, b, ctx)
      : [
          endpoint(route, b, {
            key: b.address,
            address: b.address,
            weight: b.weight,
            draining: b.drain,
            held: false,
            detail: '',
          }),
        ],
  );
}

/** The route as its proxy gets it. */
export function placedRoute(route: RouteTable, ctx: ResolveContext): PlacedRoute {
  return {
    name: route.name,
    listenHost: route.listen.host || ROUTE_DEFAULTS.listenHost,
    listenPort: route.listen.port,
    policy: route.policy,
    healthCheck: route.healthCheck,
    endpoints: resolveEndpoints(route, ctx),
    holdTimeoutMs: route.holdTimeoutMs,
    revision: route.revision,
  };
}
