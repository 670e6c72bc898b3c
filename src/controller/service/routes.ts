import { YardError } from '../../core/errors.js';
import type { Route } from '../../core/route.js';
import { PromotionState, type PromoteRouteResponse } from '../../gen/switchyard/v1/control.js';
import { ROUTE_CHANGE_HISTORY } from '../store.js';
import {
  parseApplyRoutes,
  parseDrain,
  parsePromote,
  parseRouteChanges,
  parseServiceRequest,
  parseSetWeights,
} from '../../core/schema/route-change.js';
import { change, changeOne, read, readAll, type Context } from './operation.js';

type Weights = { service: string; weights: Record<string, number> };
type Drain = { service: string; backend: string; deadlineMs: number };
type Promotion = {
  service: string;
  version: string;
  steps: number[];
  intervalMs: number;
  onStep?: (p: PromoteRouteResponse) => void;
};

/** Audit targets are one line of bounded length, however many routes or versions a call names. */
const line = (text: string) => text.slice(0, 256);

export const listRoutes = readAll('route.list', ({ parts }) => parts.router.list());

export const applyRoutes = change({
  name: 'route.apply',
  role: 'operator',
  validate: ({ routes, dryRun }: { routes: Route[]; dryRun: boolean }) => ({
    routes: parseApplyRoutes({ routes }),
    dryRun,
  }),
  target: ({ routes, dryRun }: { routes: Route[]; dryRun: boolean }) =>
    line(`${routes.map((r) => r.name).join(', ')}${dryRun ? ' (dry run)' : ''}`),
  act: ({ routes, dryRun }, { parts, caller }) => parts.router.apply(routes, caller.name, dryRun),
});

/** A change to a service's whole table, named by the service alone. */
const serviceChange = <Out>(action: 'delete' | 'rollback', act: (service: string, ctx: Context) => Promise<Out>) =>
  changeOne(`route.${action}`, act, (service) => parseServiceRequest({ service }, action));

export const deleteRoute = serviceChange('delete', (service, { parts, caller }) =>
  parts.router.delete(service, caller.name),
);

export const setRouteWeights = change({
  name: 'route.weight',
  role: 'operator',
  validate: (input: Weights) => parseSetWeights(input),
  target: ({ service, weights }: Weights) =>
    line(
      `${service}: ${Object.entries(weights)
        .map(([v, w]) => `${v}=${w}`)
        .join(' ')}`,
    ),
  act: ({ service, weights }: Weights, { parts, caller }) => parts.router.setWeights(service, weights, caller.name),
});

export const rollbackRoute = serviceChange('rollback', (service, { parts, caller }) =>
  parts.router.rollback(service, caller.name),
);

export const drainBackend = change({
  name: 'route.drain',
  role: 'operator',
  validate: (input: Drain) => parseDrain(input),
  target: ({ service, backend }: Drain) => line(`${service}: ${backend}`),
  act: ({ service, backend, deadlineMs }: Drain, { parts, caller }) =>
    parts.router.drain(service, backend, deadlineMs, caller.name),
});

/** A promotion that ended reverted: a failed action in the audit trail; `final` says how it ended. */
export class PromotionReverted extends YardError {
  constructor(
    readonly final: PromoteRouteResponse,
    service: string,
    version: string,
  ) {
    super('PROMOTION_REVERTED', final.message || `the promotion of ${version} on ${service} was halted and reverted`, {
      service,
      version,
    });
  }
}

/**
 * Moves traffic to `version` step by step, telling `onStep` each step; resolves with the final
 * state when DONE, rejects with PromotionReverted when a step's checks failed.
 */
export const promoteRoute = change({
  name: 'route.promote',
  role: 'operator',
  validate: (input: Promotion) => parsePromote(input),
  target: ({ service, version }: Promotion) => `${service} → ${version}`,
  act: async ({ service, version, steps, intervalMs, onStep }: Promotion, { parts, caller }) => {
    const final = await parts.router.promote(service, version, { steps, intervalMs }, caller.name, onStep);
    if (final.state === PromotionState.PROMOTION_STATE_REVERTED) throw new PromotionReverted(final, service, version);
    return final;
  },
});

export const listRouteChanges = read({
  name: 'route.changes',
  role: 'viewer',
  validate: (input: { service: string; limit: number }) => parseRouteChanges(input, ROUTE_CHANGE_HISTORY),
  act: ({ service, limit }: { service: string | undefined; limit: number }, { parts }) =>
    parts.router.changes(service, limit),
});
