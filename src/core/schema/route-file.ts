import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { durationSchema } from './duration.js';
import { YardError, errorMessage } from '../errors.js';
import { checkRoute } from './route.js';
import { ROUTE_LIMITS, checkKinds, policies, protocols, type Backend, type Route } from '../route.js';
import {
  backendAddressSchema,
  backendVersionSchema,
  backendWorkloadSchema,
  listenHostSchema,
  portSchema,
  serviceNameSchema,
  weightSchema,
} from './route-fields.js';
import { describeIssue } from '../validate.js';

// The route file an operator writes (`yard route apply -f`): JSON, or the same keys in YAML.
// It holds one route, a list of routes, or {"routes": [...]}.

const duration = durationSchema;

const backendSchema = z
  .strictObject({
    workload: backendWorkloadSchema.optional(),
    address: backendAddressSchema.optional(),
    port: portSchema.optional(),
    weight: weightSchema,
    version: backendVersionSchema.default(''),
    drain: z.boolean().default(false),
  })
  .refine((b) => (b.workload === undefined) !== (b.address === undefined), {
    message: 'needs exactly one of "workload" and "address"',
  })
  .refine((b) => b.port === undefined || b.workload !== undefined, {
    message: '"port" only goes with "workload" (an address has its own port)',
  });

const healthSchema = z.strictObject({
  kind: z.enum(['tcp', 'http']).default('tcp'),
  interval: duration.optional(),
  timeout: duration.optional(),
  unhealthyAfter: z.number().int().min(1).max(100).optional(),
  healthyAfter: z.number().int().min(1).max(100).optional(),
  path: z.string().startsWith('/', 'must start with /').max(1024).optional(),
});

const routeSchema = z.strictObject({
  name: serviceNameSchema,
  listen: z.strictObject({
    server: z.string({ error: "is required (the proxy agent's server name or id)" }).min(1, 'must not be empty'),
    port: portSchema,
    host: listenHostSchema.optional(),
  }),
  protocol: z
    .enum(['tcp', 'http'])
    .default('tcp')
    .refine(
      (p) => p === 'tcp',
      'http is not supported yet: use tcp (HTTP forwards as TCP; a healthCheck may still be http)',
    ),
  policy: z.enum(['weighted', 'least-connections']).default('weighted'),
  backends: z.array(backendSchema).min(1, 'needs at least one backend').max(ROUTE_LIMITS.backends),
  healthCheck: healthSchema.optional(),
  holdTimeout: duration.optional(),
  drainTimeout: duration.optional(),
});

type RouteInput = z.output<typeof routeSchema>;

const fileSchema = z.union([z.strictObject({ routes: z.array(z.unknown()) }), z.array(z.unknown()), z.looseObject({})]);

/** Parses a route file's text (JSON or YAML) into routes, or throws one error naming the file and the field. */
export function parseRouteFile(text: string, file: string): Route[] {
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new YardError(
      'INVALID_ARGUMENT',
      `route file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML or JSON'}: ${errorMessage(err).split('\n')[0]}`,
      { file },
    );
  }
  const shape = fileSchema.safeParse(doc);
  if (!shape.success || doc === null)
    throw new YardError(
      'INVALID_ARGUMENT',
      `route file ${file} holds no route: expected a route object, a list of them, or {"routes": [...]}`,
      { file },
    );
  const items = Array.isArray(doc) ? doc : 'routes' in (doc as object) ? (doc as { routes: unknown[] }).routes : [doc];
  if (items.length === 0) throw new YardError('INVALID_ARGUMENT', `route file ${file} holds no route`, { file });
  if (items.length > ROUTE_LIMITS.routes)
    throw new YardError(
      'INVALID_ARGUMENT',
      `route file ${file} holds ${items.length} routes; at most ${ROUTE_LIMITS.routes}`,
      { file },
    );
  const routes = items.map((item, i) => {
    const where = items.length > 1 ? `${file}: routes[${i}]` : file;
    return checked(toRoute(parseOne(item, where)), where);
  });
  const names = new Set<string>();
  for (const r of routes) {
    if (names.has(r.name))
      throw new YardError('ALREADY_EXISTS', `route file ${file} defines service ${r.name} twice`, {
        file,
        route: r.name,
      });
    names.add(r.name);
  }
  return routes;
}

function parseOne(item: unknown, where: string): RouteInput {
  const r = routeSchema.safeParse(item);
  if (r.success) return r.data;
  const { field, message } = describeIssue(r.error);
  throw new YardError('INVALID_ARGUMENT', `${where}: ${field || 'route'} ${message}`, { field });
}

/** The rules every route meets, wherever it comes from (src/core/schema/route.ts), and its defaults. */
function checked(route: Route, where: string): Route {
  try {
    return checkRoute(route);
  } catch (err) {
    if (err instanceof YardError) throw new YardError(err.code, `${where}: ${err.message}`, err.details);
    throw err;
  }
}

function toBackend(b: RouteInput['backends'][number]): Backend {
  return {
    workload: b.workload ?? '',
    address: b.address ?? '',
    port: b.port ?? 0,
    weight: b.weight,
    version: b.version,
    drain: b.drain,
    drainTimeoutMs: 0,
  };
}

/** The route as written; what it leaves out is 0 or empty, for checkRoute() to default. */
function toRoute(r: RouteInput): Route {
  const h = r.healthCheck;
  return {
    name: r.name,
    listen: { server: r.listen.server, port: r.listen.port, host: r.listen.host ?? '' },
    protocol: protocols.value(r.protocol, 'protocol'),
    policy: policies.value(r.policy, 'policy'),
    backends: r.backends.map(toBackend),
    healthCheck: {
      kind: checkKinds.value(h?.kind ?? 'tcp', 'healthCheck.kind'),
      intervalMs: h?.interval ?? 0,
      timeoutMs: h?.timeout ?? 0,
      unhealthyAfter: h?.unhealthyAfter ?? 0,
      healthyAfter: h?.healthyAfter ?? 0,
      path: h?.path ?? '',
    },
    holdTimeoutMs: r.holdTimeout ?? 0,
    drainTimeoutMs: r.drainTimeout ?? 0,
    revision: 0,
    updatedMs: 0,
    updatedBy: '',
  };
}

/** A route as an operator would write it back (for `yard routes --json` and the change history). */
export function routeToFile(r: Route): Record<string, unknown> {
  const h = r.healthCheck;
  return {
    name: r.name,
    listen: { server: r.listen?.server, port: r.listen?.port, host: r.listen?.host },
    protocol: protocols.name(r.protocol),
    policy: policies.name(r.policy),
    backends: r.backends.map((b) => ({
      ...(b.workload ? { workload: b.workload } : { address: b.address }),
      ...(b.port ? { port: b.port } : {}),
      weight: b.weight,
      version: b.version,
      ...(b.drain ? { drain: true } : {}),
    })),
    ...(h
      ? {
          healthCheck: {
            kind: checkKinds.name(h.kind),
            interval: `${h.intervalMs}ms`,
            timeout: `${h.timeoutMs}ms`,
            unhealthyAfter: h.unhealthyAfter,
            healthyAfter: h.healthyAfter,
            ...(h.kind === 2 ? { path: h.path } : {}),
          },
        }
      : {}),
    holdTimeout: `${r.holdTimeoutMs}ms`,
    drainTimeout: `${r.drainTimeoutMs}ms`,
  };
}
