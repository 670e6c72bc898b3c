import type { Deployment } from '../../core/deployment.js';
import { unschedulable } from '../../core/drain.js';
import { targetScore } from '../../core/target-score.js';
import type { Server } from '../../core/types.js';

/**
 * Whether new replicas may be placed on the server at all: schedulable by the fleet's one rule
 * (online, not cordoned, not a scraped host: core/drain.ts), with its agent's session open.
 */
export function schedulable(server: Server, connected: (serverId: string) => boolean): boolean {
  return unschedulable(server) === undefined && connected(server.id);
}

/** Whether the server meets the deployment's placement: every label it asks for, and enough GPUs. */
function fits(d: Deployment, server: Server): boolean {
  const p = d.placement;
  if (!p) return true;
  for (const [k, v] of Object.entries(p.labels)) if (server.labels[k] !== v) return false;
  return (server.capabilities?.gpus.length ?? 0) >= p.gpus;
}

/**
 * The host for one more replica: among the schedulable servers that fit, those with the fewest of
 * the deployment's replicas (none, unless it allows sharing a host), then the most room
 * (target-score.ts), then by name. Undefined: nowhere.
 */
export function pickHost(
  d: Deployment,
  servers: Server[],
  replicasOn: ReadonlyMap<string, number>,
  connected: (serverId: string) => boolean,
): Server | undefined {
  const sharing = d.placement?.allowSameHost ?? false;
  let best: { server: Server; count: number; score: number } | undefined;
  for (const server of servers) {
    if (!schedulable(server, connected) || !fits(d, server)) continue;
    const count = replicasOn.get(server.id) ?? 0;
    if (count > 0 && !sharing) continue;
    const score = targetScore(server);
    if (
      !best ||
      count < best.count ||
      (count === best.count && (score > best.score || (score === best.score && server.name < best.server.name)))
    )
      best = { server, count, score };
  }
  return best?.server;
}

/** Why no host was found, in numbers an operator can act on. */
export function nowhereReason(d: Deployment, servers: Server[], connected: (serverId: string) => boolean): string {
  const up = servers.filter((s) => schedulable(s, connected));
  const fitting = up.filter((s) => fits(d, s));
  const wants = [
    ...Object.entries(d.placement?.labels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(d.placement?.gpus ? [`${d.placement.gpus} GPU(s)`] : []),
  ];
  const spread = fitting.length > 0 && !d.placement?.allowSameHost ? ', each already running one (spread)' : '';
  return `no host for another replica: ${servers.length} server(s), ${up.length} online, ${fitting.length} fit${wants.length ? ` (${wants.join(', ')})` : ''}${spread}`;
}
