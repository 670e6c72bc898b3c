import { isDeepStrictEqual } from 'node:util';
import { YardError } from '../../core/errors.js';
import type { Route, RouteChange } from '../../core/route.js';
import { routeTable, type RouteTable } from '../../core/domain.js';
import type { Store } from '../store.js';

/** What the operator means by a route: the table without the controller's stamps. */
function tableOf(r: Route): Route {
  return { ...r, revision: 0, updatedMs: 0, updatedBy: '' };
}

export function sameTable(a: Route, b: Route): boolean {
  return isDeepStrictEqual(tableOf(a), tableOf(b));
}

export function routeChange<T extends Route>(
  atMs: number,
  who: string,
  service: string,
  action: string,
  before: T | undefined,
  after: T | undefined,
  note: string,
): RouteChange & { before?: T; after?: T } {
  return { atMs, who, service, action, ...(before ? { before } : {}), ...(after ? { after } : {}), note };
}

/** Newest first, of one service or all; `limit` 0 means every change kept. */
export function changesOf(store: Store, service?: string, limit = 0): RouteChange[] {
  const all = store.routeChanges().filter((c) => !service || c.service === service);
  return limit > 0 ? all.slice(0, limit) : all;
}

/** A promotion records one change per step; its first step's note ends like this. */
const FIRST_STEP = /\(step 1 of \d+\)$/;

/**
 * The table a rollback restores: the one before the service's newest change — or, when that
 * change is a step of a promotion, the one before the promotion began (a promotion is undone
 * as a whole, as operators mean it).
 */
export function tableBefore(store: Store, service: string): RouteTable {
  const changes = changesOf(store, service);
  let last = changes[0];
  if (last?.action === 'promote') {
    for (const c of changes) {
      if (c.action !== 'promote') break;
      last = c;
      if (FIRST_STEP.test(c.note)) break;
    }
  }
  if (!last)
    throw new YardError(
      'NOT_FOUND',
      `no change of ${service} is recorded, so there is nothing to roll back: \`yard routes\` lists services`,
      { route: service },
    );
  if (!last.before)
    throw new YardError(
      'FAILED_PRECONDITION',
      `${service} has no earlier table: \`yard route delete ${service}\` removes it`,
      { route: service },
    );
  return routeTable(last.before);
}
