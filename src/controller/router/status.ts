import { BackendHealth } from '../../core/route.js';
import type { RouteState, RouteTable } from '../../core/domain.js';
import type { ProxyLinks } from './placement.js';
import { resolveEndpoints, type ResolveContext } from './resolve.js';
import type { RouteStatsBook } from './route-stats.js';

export interface StatusContext extends ResolveContext {
  links: ProxyLinks;
  stats: RouteStatsBook;
  /** Why the proxy's last re-placement failed ('' when it did not). */
  placementError(serverId: string): string;
  /** A promotion in progress, by service. */
  promotions: ReadonlyMap<string, string>;
}

/** A workload's endpoint on one route, as its proxy last reported it (zeros until it does). */
export interface EndpointReport {
  active: number;
  connectErrors: number;
  checksPassing: boolean;
  health: BackendHealth;
  /** When the route's proxy last reported; 0 when never. */
  reportedMs: number;
}

/** A route as operators see it: where its traffic goes now, and what its proxy last said. */
export function routeStatus(c: StatusContext, route: RouteTable): RouteState {
  const proxy = c.registry.get(route.listen.server)?.server;
  const reading = proxy ? c.stats.get(route.name, proxy.id) : undefined;
  const connected = proxy ? c.links.connected(proxy.id) : false;
  const error = !proxy
    ? `proxy ${route.listen.server} is not known: \`yard servers\` lists servers`
    : !connected
      ? `proxy ${proxy.name} is disconnected`
      : c.placementError(proxy.id) || reading?.error || '';
  return {
    route,
    serverId: proxy?.id ?? '',
    endpoints: resolveEndpoints(route, c).map((endpoint) => {
      const r = reading?.endpoints.get(endpoint.key);
      return { endpoint, stats: r?.stats, bytesPerSec: r?.bytesPerSec ?? 0 };
    }),
    listening: connected && (reading?.listening ?? false),
    error,
    statsMs: reading?.atMs ?? 0,
    heldTotal: reading?.heldTotal ?? 0,
    heldMaxMs: reading?.heldMaxMs ?? 0,
    refused: reading?.refused ?? 0,
    active: reading?.active ?? 0,
    total: reading?.total ?? 0,
    bytesPerSec: reading?.bytesPerSec ?? 0,
    promotion: c.promotions.get(route.name) ?? '',
  };
}

/** The workload's endpoint on `serverId`, on every route it backs: one entry per route. */
export function endpointReports(
  c: StatusContext,
  tables: RouteTable[],
  workload: string,
  serverId: string,
): EndpointReport[] {
  const key = `${workload}@${serverId}`;
  return tables
    .filter((r) => r.backends.some((b) => b.workload === workload))
    .map((r) => {
      const proxy = c.registry.get(r.listen.server)?.server.id;
      const reading = proxy ? c.stats.get(r.name, proxy) : undefined;
      const e = reading?.endpoints.get(key)?.stats;
      return {
        active: e?.active ?? 0,
        connectErrors: e?.connectErrors ?? 0,
        checksPassing: e?.checksPassing ?? false,
        health: e?.health ?? BackendHealth.BACKEND_HEALTH_UNSPECIFIED,
        reportedMs: reading?.atMs ?? 0,
      };
    });
}
