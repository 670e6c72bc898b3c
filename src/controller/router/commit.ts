import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { PlacedRoute, RouteChange } from '../../core/route.js';
import type { RouteState, RouteTable } from '../../core/domain.js';
import type { Store } from '../store.js';
import { admit, type AdmitContext } from './admit.js';
import { routeChange, sameTable } from './history.js';
import type { Placement } from './placement.js';
import type { RouteStatsBook } from './route-stats.js';

/** A change as recorded, with its tables as the controller keeps them. */
type TableChange = RouteChange & { before?: RouteTable; after?: RouteTable };

/** One service's new table (none: delete it). */
export interface Plan {
  service: string;
  after?: RouteTable;
}

export interface CommitOptions {
  dryRun?: boolean;
  /** The table was written by an operator: check its workloads exist and have a port. */
  checkWorkloads?: boolean;
}

export interface CommitContext {
  store: Store;
  fleet: AdmitContext;
  placement: Placement;
  stats: RouteStatsBook;
  log: Logger;
  now(): number;
  proxyOf(r: RouteTable): string | undefined;
  /** The complete set a proxy serves, given these tables. */
  routesFor(serverId: string, tables: RouteTable[]): PlacedRoute[];
  statusOf(r: RouteTable): RouteState;
  changed(s: RouteState): void;
  removed(service: string): void;
}

/**
 * The proxies a change touches get their complete new set: the one each changed route now
 * listens on (connected, as admit checked), and one it left if that is connected (one that is
 * away gets its set when it comes back). A refusal re-places the old set where the new one went.
 */
async function placeChanges(
  c: CommitContext,
  changes: TableChange[],
  current: RouteTable[],
  candidate: RouteTable[],
): Promise<void> {
  const targets = new Set<string>();
  for (const ch of changes) if (ch.after) targets.add(c.proxyOf(ch.after)!);
  for (const ch of changes) {
    const left = ch.before && c.proxyOf(ch.before);
    if (left && c.fleet.links.connected(left)) targets.add(left);
  }
  const placed: string[] = [];
  for (const id of targets) {
    try {
      await c.placement.place(id, c.routesFor(id, candidate));
      placed.push(id);
    } catch (err) {
      // It may have applied the set before failing to answer: the next re-placement settles it.
      c.placement.forget(id);
      for (const back of placed) {
        await c.placement.place(back, c.routesFor(back, current)).catch((revertErr: unknown) => {
          c.placement.forget(back);
          c.log.warn('could not re-place the previous routes after a refused change', {
            server: c.placement.nameOf(back),
            error: errorMessage(revertErr),
          });
        });
      }
      c.placement.soon([id, ...placed]);
      throw err;
    }
  }
}

/**
 * Applies new tables, all or none: checked against the fleet, placed on every proxy they touch,
 * then stored and recorded. A table equal to the stored one (stamps aside) changes nothing.
 * The caller runs one commit at a time.
 */
export async function commit(
  c: CommitContext,
  plans: Plan[],
  who: string,
  action: string,
  note: string,
  opts: CommitOptions = {},
): Promise<{ routes: RouteState[]; changes: RouteChange[] }> {
  const at = c.now();
  const current = new Map(c.store.routes().map((r) => [r.name, r]));
  const candidate = new Map(current);
  const changes: TableChange[] = [];
  const outcome: RouteTable[] = [];
  for (const p of plans) {
    const before = current.get(p.service);
    if (p.after && before && sameTable(before, p.after)) {
      outcome.push(before);
      continue;
    }
    if (!p.after && !before)
      throw new YardError('NOT_FOUND', `no route "${p.service}": \`yard routes\` lists them`, { route: p.service });
    const after = p.after && { ...p.after, revision: (before?.revision ?? 0) + 1, updatedMs: at, updatedBy: who };
    if (after) {
      candidate.set(p.service, after);
      outcome.push(after);
    } else candidate.delete(p.service);
    changes.push(routeChange(at, who, p.service, action, before, after, note));
  }
  for (const ch of changes) if (ch.after) admit(c.fleet, ch.after, candidate.values(), opts.checkWorkloads ?? false);
  if (opts.dryRun || changes.length === 0)
    return { routes: outcome.map(c.statusOf), changes: opts.dryRun ? changes : [] };

  await placeChanges(
    c,
    changes,
    [...current.values()],
    [...candidate.values()].sort((a, b) => a.name.localeCompare(b.name)),
  );
  for (const ch of changes) {
    if (ch.after) c.store.putRoute(ch.after);
    else c.store.removeRoute(ch.service);
    if (!ch.after || (ch.before && c.proxyOf(ch.before) !== c.proxyOf(ch.after))) c.stats.drop(ch.service);
    c.store.addRouteChange(ch);
  }
  // Acknowledged before anyone hears of it. Lost to another controller's change of the same
  // route (a shared store): the store now holds theirs, and the proxies get it back.
  try {
    await c.store.flush();
  } catch (err) {
    c.placement.soon();
    throw err;
  }
  for (const ch of changes) {
    if (ch.after) c.changed(c.statusOf(ch.after));
    else c.removed(ch.service);
  }
  return { routes: outcome.map(c.statusOf), changes };
}
