import type { ServerWritableStream } from '@grpc/grpc-js';
import { z } from 'zod';
import { YardError } from '../../core/errors.js';
import { ROUTE_LIMITS } from '../../core/route.js';
import { checkRoute } from '../../core/route-check.js';
import { toServiceError } from '../../core/rpc/errors.js';
import { validate } from '../../core/validate.js';
import { WORKLOAD_NAME } from '../../core/workload.js';
import { PromotionState, type ControlServer, type ListRouteChangesRequest, type PromoteRouteRequest, type PromoteRouteResponse } from '../../gen/switchyard/v1/control.js';
import type { AuditLog } from '../audit.js';
import { ROUTE_CHANGE_HISTORY } from '../store.js';
import type { Router } from '../router/router.js';
import { unary, type ControlAuth } from './auth.js';

export interface RouteControlOptions {
  router: Router;
  audit: AuditLog;
  /** Who may call, on the listener these handlers serve. */
  auth: ControlAuth;
}

type RouteRpcs = 'listRoutes' | 'applyRoutes' | 'deleteRoute' | 'setRouteWeights' | 'promoteRoute' | 'rollbackRoute' | 'drainBackend' | 'listRouteChanges';

const service = z.string().regex(WORKLOAD_NAME, 'is not a service name (letters, digits, . _ -; at most 63)');
const version = z.string().min(1, 'must not be empty').max(ROUTE_LIMITS.versionLength).regex(/^[A-Za-z0-9._-]+$/, 'may only hold letters, digits and . _ -');
/** Timers hold at most 2^31-1 ms. */
const ms = z.number().int().min(0).max(2_147_483_647, 'must be at most 24 days');

const applySchema = z.looseObject({ routes: z.array(z.unknown()).min(1, 'holds no route').max(ROUTE_LIMITS.routes, `holds more than ${ROUTE_LIMITS.routes} routes`) });
const serviceSchema = z.looseObject({ service });
const weightsSchema = z.looseObject({
  service,
  weights: z.record(version, z.number().int().min(0).max(100, 'must be from 0 to 100')).refine((w) => Object.keys(w).length > 0, 'name at least one version, e.g. blue=20 green=80').refine((w) => Object.keys(w).length <= ROUTE_LIMITS.backends, `at most ${ROUTE_LIMITS.backends} versions`),
});
const promoteSchema = z.looseObject({ service, version, steps: z.array(z.number().int()).max(100), intervalMs: ms });
const drainSchema = z.looseObject({ service, backend: z.string().min(1, 'must name a version, workload or address').max(300), deadlineMs: ms });
const changesSchema = z.looseObject({ service: z.union([z.literal(''), service]), limit: z.number().int().min(0).max(ROUTE_CHANGE_HISTORY) });

/** Control: routing tables — list, apply, weights, promote, rollback, drain, delete, history. */
export function routeControl(o: RouteControlOptions): Pick<ControlServer, RouteRpcs> {
  const { router, auth } = o;
  /** A mutating call: authenticated, checked, then run and recorded in the audit trail with its outcome. */
  const audited = <Req, Res>(action: string, target: (req: Req) => string, handle: (req: Req, who: string) => Res | Promise<Res>) =>
    unary<Req, Res>(auth, (req, _md, call) => {
      const who = auth.who(call);
      return o.audit.record(who, action, target(req), () => handle(req, who));
    });

  return {
    listRoutes: unary(auth, () => ({ routes: router.list() })),

    applyRoutes: audited(
      'route.apply',
      (req) => `${req.routes.map((r) => r.name).join(', ')}${req.dryRun ? ' (dry run)' : ''}`.slice(0, 256),
      async (req, who) => {
        validate(applySchema, req, 'apply');
        return router.apply(req.routes.map(checkRoute), who, req.dryRun);
      },
    ),

    deleteRoute: audited('route.delete', (req) => req.service, async (req, who) => {
      validate(serviceSchema, req, 'delete');
      return { change: await router.delete(req.service, who) };
    }),

    setRouteWeights: audited(
      'route.weight',
      (req) => `${req.service}: ${Object.entries(req.weights).map(([v, w]) => `${v}=${w}`).join(' ')}`.slice(0, 256),
      (req, who) => {
        validate(weightsSchema, req, 'weights');
        return router.setWeights(req.service, req.weights, who);
      },
    ),

    rollbackRoute: audited('route.rollback', (req) => req.service, (req, who) => {
      validate(serviceSchema, req, 'rollback');
      return router.rollback(req.service, who);
    }),

    drainBackend: audited('route.drain', (req) => `${req.service}: ${req.backend}`.slice(0, 256), (req, who) => {
      validate(drainSchema, req, 'drain');
      return router.drain(req.service, req.backend, req.deadlineMs, who);
    }),

    listRouteChanges: unary(auth, (req: ListRouteChangesRequest) => {
      validate(changesSchema, req, 'route changes');
      return { changes: router.changes(req.service || undefined, req.limit) };
    }),

    promoteRoute(call: ServerWritableStream<PromoteRouteRequest, PromoteRouteResponse>) {
      // The promotion goes on in the controller if the caller goes away; only the writes stop.
      const write = (p: PromoteRouteResponse) => {
        if (!call.cancelled) call.write(p);
      };
      let final: PromoteRouteResponse | undefined;
      void (async () => {
        auth.check(call.metadata);
        const req = validate(promoteSchema, call.request, 'promote');
        const who = auth.who(call);
        // A reverted promotion is a failed action in the audit trail, but a normal end of the stream.
        await o.audit
          .record(who, 'route.promote', `${req.service} → ${req.version}`, async () => {
            final = await router.promote(req.service, req.version, { steps: req.steps, intervalMs: req.intervalMs }, who, write);
            if (final.state === PromotionState.PROMOTION_STATE_REVERTED) throw new YardError('REVERTED', final.message);
          })
          .catch((err: unknown) => {
            if (final === undefined) throw err;
          });
        write(final!);
        if (!call.cancelled) call.end();
      })().catch((err: unknown) => {
        if (!call.cancelled) call.emit('error', toServiceError(err));
      });
    },
  };
}
