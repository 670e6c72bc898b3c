import { YardError } from '../../core/errors.js';
import type { RouteListen } from '../../core/route.js';
import type { RouteTable } from '../../core/domain.js';
import type { Registry } from '../registry.js';
import type { WorkloadTable } from '../workloads.js';
import type { ProxyLinks } from './placement.js';
import { workloadPort } from './resolve.js';

export interface AdmitContext {
  registry: Registry;
  links: ProxyLinks;
  workloads: WorkloadTable;
}

const WILDCARD = new Set(['', '0.0.0.0', '::']);

/** Two listeners on one host clash on the same port unless both bind distinct addresses. */
function clash(a: RouteListen, b: RouteListen): boolean {
  return a.port === b.port && (a.host === b.host || WILDCARD.has(a.host) || WILDCARD.has(b.host));
}

/** The proxy a route listens on must be known, a proxy, and connected (its agent applies the change). */
function admitProxy(ctx: AdmitContext, r: RouteTable): string {
  const server = ctx.registry.get(r.listen.server)?.server;
  if (!server)
    throw new YardError('NOT_FOUND', `route ${r.name}: no server "${r.listen.server}": \`yard servers\` lists them`, {
      route: r.name,
      server: r.listen.server,
    });
  if (!server.capabilities?.proxy)
    throw new YardError(
      'FAILED_PRECONDITION',
      `server ${server.name} is not a proxy: start its agent with \`yard agent --proxy\``,
      { route: r.name, server: server.id },
    );
  if (!ctx.links.connected(server.id))
    throw new YardError(
      'UNAVAILABLE',
      `proxy ${server.name} is not connected: its agent must be online to apply route ${r.name}`,
      { route: r.name, server: server.id },
    );
  return server.id;
}

function admitPort(ctx: AdmitContext, r: RouteTable, serverId: string, tables: Iterable<RouteTable>): void {
  for (const other of tables) {
    if (
      other.name === r.name ||
      ctx.registry.get(other.listen.server)?.server.id !== serverId ||
      !clash(other.listen, r.listen)
    )
      continue;
    const name = ctx.registry.get(serverId)?.server.name ?? serverId;
    throw new YardError(
      'PORT_IN_USE',
      `route ${r.name}: port ${r.listen.port} on ${name} is already used by service ${other.name}: pick another listen port, or move ${other.name} first`,
      {
        route: r.name,
        other: other.name,
        port: String(r.listen.port),
      },
    );
  }
}

function admitWorkloads(ctx: AdmitContext, r: RouteTable): void {
  for (const b of r.backends) {
    if (!b.workload) continue;
    if (ctx.workloads.instances(b.workload).length === 0)
      throw new YardError('NOT_FOUND', `route ${r.name}: unknown workload ${b.workload}: \`yard ps\` lists workloads`, {
        route: r.name,
        workload: b.workload,
      });
    if (!workloadPort(b, ctx.workloads)) {
      throw new YardError(
        'INVALID_ARGUMENT',
        `route ${r.name}: workload ${b.workload} declares no port: run it with --port, or give the backend a port`,
        { route: r.name, workload: b.workload },
      );
    }
  }
}

/**
 * Checks a route against the fleet before it is placed: its proxy, its port among the other
 * routes (`tables`, the full set as it would be), and, for tables an operator wrote, that its
 * workloads exist and have a port. Tables derived from stored ones (weights, drain, promote,
 * rollback) skip the workload checks: a stopped workload must not block draining it.
 */
export function admit(ctx: AdmitContext, r: RouteTable, tables: Iterable<RouteTable>, checkWorkloads: boolean): void {
  const serverId = admitProxy(ctx, r);
  admitPort(ctx, r, serverId, tables);
  if (checkWorkloads) admitWorkloads(ctx, r);
}
