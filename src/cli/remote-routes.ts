import type { ServiceError } from '@grpc/grpc-js';
import type { RouteState } from '../core/domain.js';
import { YardError } from '../core/errors.js';
import type { RouteActions } from '../core/fleet.js';
import { ROUTE_DEFAULTS, type RouteStatus } from '../core/route.js';
import { PromotionState, type PromoteRouteRequest, type PromoteRouteResponse } from '../gen/switchyard/v1/control.js';
import { explain, type controlClient, type ControllerTarget } from './client.js';
import { answeredRoute } from './replies.js';

type Control = ReturnType<typeof controlClient>;

export interface RemoteRouteDeps {
  /** The channel in use now (a reconnect replaces it). */
  control(): Control;
  target: ControllerTarget;
  /** An answer's route, kept at once: the fleet stream's copy may come later. */
  learn(status: RouteStatus): void;
  /** What a promotion may take beyond its steps before we stop waiting for it. */
  graceMs: number;
}

/** Route actions as Control calls: weights, rollback and drain are unary, a promotion streams its steps. */
export function remoteRouteActions(deps: RemoteRouteDeps): RouteActions {
  const { target } = deps;
  const kept = (res: { route?: RouteStatus }, what: string): RouteState => {
    const route = answeredRoute(target, res, what);
    deps.learn(route);
    return route;
  };
  return {
    setRouteWeights: async (service, weights) => {
      const c = deps.control();
      return kept(await c.call(c.client.setRouteWeights, { service, weights }), `set the weights of ${service}`);
    },
    promoteRoute: (service, version, opts = {}) =>
      promote(deps, { service, version, steps: opts.steps ?? [], intervalMs: opts.intervalMs ?? 0 }),
    rollbackRoute: async (service) => {
      const c = deps.control();
      return kept(await c.call(c.client.rollbackRoute, { service }), `rolled back ${service}`);
    },
    drainBackend: async (service, backend, deadlineMs = 0) => {
      const c = deps.control();
      return kept(
        await c.call(c.client.drainBackend, { service, backend, deadlineMs }),
        `drained ${backend} of ${service}`,
      );
    },
  };
}

/** Reads a PromoteRoute stream to its end: resolves with the final message when DONE, rejects with the reason when REVERTED. */
function promote(deps: RemoteRouteDeps, req: PromoteRouteRequest): Promise<string> {
  const { target } = deps;
  const steps = req.steps.length || ROUTE_DEFAULTS.promoteSteps.length;
  const deadline = new Date(Date.now() + steps * (req.intervalMs || ROUTE_DEFAULTS.promoteIntervalMs) + deps.graceMs);
  const c = deps.control();
  return new Promise((resolve, reject) => {
    let last: PromoteRouteResponse | undefined;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    const stream = c.client.promoteRoute(req, c.metadata, { deadline });
    stream.on('data', (p: PromoteRouteResponse) => {
      last = p;
      if (p.route) deps.learn(p.route);
    });
    stream.on('error', (err: ServiceError) => settle(() => reject(explain(err, target))));
    stream.on('end', () =>
      settle(() => {
        if (last?.state === PromotionState.PROMOTION_STATE_DONE)
          resolve(last.message || `${req.version} takes all the traffic of ${req.service}`);
        else if (last?.state === PromotionState.PROMOTION_STATE_REVERTED)
          reject(
            new YardError(
              'PROMOTION_REVERTED',
              last.message || `the promotion of ${req.version} on ${req.service} was halted and reverted`,
              { service: req.service, version: req.version },
            ),
          );
        else
          reject(
            new YardError(
              'RPC_FAILED',
              `the controller at ${target.address} ended the promotion of ${req.version} on ${req.service} without saying how it went: \`yard routes\` shows where it stands`,
            ),
          );
      }),
    );
  });
}
