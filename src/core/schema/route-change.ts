import { z } from 'zod';
import { checkRoute } from './route.js';
import { ROUTE_LIMITS, type Route } from '../route.js';
import { validate } from '../validate.js';
import { emptyOr, msSchema, serviceNameSchema, versionSchema } from './route-fields.js';
import { versionWeightsSchema } from './weights.js';

// The changes a client asks of the routing tables, as the controller's edge receives them.
// Each returns what it checked; an error is an INVALID_ARGUMENT naming the request and the field.

const applySchema = z.looseObject({
  routes: z
    .array(z.unknown())
    .min(1, 'holds no route')
    .max(ROUTE_LIMITS.routes, `holds more than ${ROUTE_LIMITS.routes} routes`),
});
const serviceSchema = z.looseObject({ service: serviceNameSchema });
const weightsSchema = z.looseObject({ service: serviceNameSchema, weights: versionWeightsSchema });
const promoteSchema = z.looseObject({
  service: serviceNameSchema,
  version: versionSchema,
  steps: z.array(z.number().int()).max(100),
  intervalMs: msSchema,
});
const drainSchema = z.looseObject({
  service: serviceNameSchema,
  backend: z.string().min(1, 'must name a version, workload or address').max(300),
  deadlineMs: msSchema,
});

/** ApplyRoutes: each route checked and with its defaults (src/core/schema/route.ts). */
export function parseApplyRoutes(req: { routes: Route[] }): Route[] {
  validate(applySchema, req, 'apply');
  return req.routes.map(checkRoute);
}

/** DeleteRoute, RollbackRoute: the service they name. */
export function parseServiceRequest(req: { service: string }, what: string): string {
  return validate(serviceSchema, req, what).service;
}

export function parseSetWeights<T extends { service: string; weights: Record<string, number> }>(req: T): T {
  return validate(weightsSchema, req, 'weights');
}

export function parsePromote<T extends { service: string; version: string; steps: number[]; intervalMs: number }>(
  req: T,
): T {
  return validate(promoteSchema, req, 'promote');
}

export function parseDrain<T extends { service: string; backend: string; deadlineMs: number }>(req: T): T {
  return validate(drainSchema, req, 'drain');
}

/** ListRouteChanges: the service ('' is every service) and how many, at most `maxLimit` (what the store keeps). */
export function parseRouteChanges(
  req: { service: string; limit: number },
  maxLimit: number,
): { service: string | undefined; limit: number } {
  validate(
    z.looseObject({ service: emptyOr(serviceNameSchema), limit: z.number().int().min(0).max(maxLimit) }),
    req,
    'route changes',
  );
  return { service: req.service || undefined, limit: req.limit };
}
