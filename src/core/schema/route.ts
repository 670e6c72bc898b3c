import { z } from 'zod';
import { YardError } from '../errors.js';
import { HealthCheckKind, ROUTE_DEFAULTS, ROUTE_LIMITS, RoutePolicy, RouteProtocol, type Route } from '../route.js';
import {
  backendAddressSchema,
  backendVersionSchema,
  backendWorkloadSchema,
  emptyOr,
  listenHostSchema,
  msSchema,
  portOrNoneSchema,
  portSchema,
  serviceNameSchema,
  weightSchema,
} from './route-fields.js';
import { LIMITS, describeIssue } from '../validate.js';

// A route as it arrives on the wire or from another part of the controller: the same checks a
// route file gets (src/core/schema/route-file.ts), on the message's own shape, since a gRPC client may
// send anything a route file could never hold.

const backendSchema = z
  .looseObject({
    workload: emptyOr(backendWorkloadSchema),
    address: emptyOr(backendAddressSchema),
    port: portOrNoneSchema,
    weight: weightSchema,
    version: backendVersionSchema,
    drain: z.boolean(),
    drainTimeoutMs: msSchema,
  })
  .refine((b) => (b.workload === '') !== (b.address === ''), {
    message: 'needs exactly one of "workload" and "address"',
  })
  .refine((b) => b.port === 0 || b.workload !== '', {
    message: '"port" only goes with "workload" (an address has its own port)',
  });

const healthSchema = z.looseObject({
  kind: z.union(
    [
      z.literal(HealthCheckKind.HEALTH_CHECK_KIND_UNSPECIFIED),
      z.literal(HealthCheckKind.HEALTH_CHECK_KIND_TCP),
      z.literal(HealthCheckKind.HEALTH_CHECK_KIND_HTTP),
    ],
    { error: 'must be tcp or http' },
  ),
  intervalMs: msSchema,
  timeoutMs: msSchema,
  unhealthyAfter: z.number().int().min(0).max(100, 'must be from 1 to 100'),
  healthyAfter: z.number().int().min(0).max(100, 'must be from 1 to 100'),
  path: z
    .string()
    .max(1024)
    .refine((p) => p === '' || p.startsWith('/'), 'must start with /'),
});

const routeSchema = z
  .looseObject({
    name: serviceNameSchema,
    listen: z.looseObject(
      {
        server: z.string().min(1, "is required (the proxy agent's server name or id)").max(LIMITS.idLength),
        port: portSchema,
        host: emptyOr(listenHostSchema),
      },
      { error: "is required (the proxy agent's server and a port)" },
    ),
    protocol: z.union(
      [z.literal(RouteProtocol.ROUTE_PROTOCOL_UNSPECIFIED), z.literal(RouteProtocol.ROUTE_PROTOCOL_TCP)],
      {
        error: 'is not supported: use tcp (HTTP forwards as TCP; a healthCheck may still be http)',
      },
    ),
    policy: z.union(
      [
        z.literal(RoutePolicy.ROUTE_POLICY_UNSPECIFIED),
        z.literal(RoutePolicy.ROUTE_POLICY_WEIGHTED),
        z.literal(RoutePolicy.ROUTE_POLICY_LEAST_CONNECTIONS),
      ],
      {
        error: 'must be weighted or least-connections',
      },
    ),
    backends: z
      .array(backendSchema)
      .min(1, 'needs at least one backend')
      .max(ROUTE_LIMITS.backends, `holds more than ${ROUTE_LIMITS.backends} backends`),
    healthCheck: healthSchema.optional(),
    holdTimeoutMs: msSchema,
    drainTimeoutMs: msSchema,
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.backends.forEach((b, i) => {
      // A workload is one endpoint per server it runs on: naming it twice would give two
      // endpoints the same key.
      const key = b.workload ? `workload ${b.workload}` : `address ${b.address}`;
      if (seen.has(key))
        ctx.addIssue({
          code: 'custom',
          path: ['backends', i],
          message: `repeats ${key} (a route reaches each backend once)`,
        });
      seen.add(key);
    });
    if (!r.backends.some((b) => b.weight > 0 && !b.drain))
      ctx.addIssue({
        code: 'custom',
        path: ['backends'],
        message: 'all have weight 0 (or are drained): nothing would take traffic; give one a weight above 0',
      });
  });

/**
 * Checks a route the way a route file is checked and returns it with every default filled in
 * (listen host, health check, timeouts, policy); revision and updated* pass through untouched.
 * Throws INVALID_ARGUMENT naming the route and the field.
 */
export function checkRoute(route: Route): Route {
  const r = routeSchema.safeParse(route);
  if (!r.success) {
    const { field, message } = describeIssue(r.error);
    const name = typeof route?.name === 'string' && route.name ? route.name : '(unnamed)';
    throw new YardError('INVALID_ARGUMENT', `route ${name}: ${field || 'route'} ${message}`, { route: name, field });
  }
  const d = ROUTE_DEFAULTS.healthCheck;
  const h = route.healthCheck;
  const intervalMs = h?.intervalMs || d.intervalMs;
  return {
    name: route.name,
    listen: {
      server: route.listen!.server,
      port: route.listen!.port,
      host: route.listen!.host || ROUTE_DEFAULTS.listenHost,
    },
    protocol: RouteProtocol.ROUTE_PROTOCOL_TCP,
    policy: route.policy || RoutePolicy.ROUTE_POLICY_WEIGHTED,
    backends: route.backends.map((b) => ({
      workload: b.workload,
      address: b.address,
      port: b.port,
      weight: b.weight,
      version: b.version,
      drain: b.drain,
      drainTimeoutMs: b.drainTimeoutMs,
    })),
    healthCheck: {
      kind: h?.kind || HealthCheckKind.HEALTH_CHECK_KIND_TCP,
      intervalMs,
      timeoutMs: h?.timeoutMs || Math.min(d.timeoutMs, intervalMs),
      unhealthyAfter: h?.unhealthyAfter || d.unhealthyAfter,
      healthyAfter: h?.healthyAfter || d.healthyAfter,
      path: h?.path || d.path,
    },
    holdTimeoutMs: route.holdTimeoutMs || ROUTE_DEFAULTS.holdTimeoutMs,
    drainTimeoutMs: route.drainTimeoutMs || ROUTE_DEFAULTS.drainTimeoutMs,
    revision: route.revision,
    updatedMs: route.updatedMs,
    updatedBy: route.updatedBy,
  };
}
