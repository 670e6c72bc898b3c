import { YardError } from './errors.js';
import { names } from './names.js';
import {
  BackendHealth,
  HealthCheckKind,
  RoutePolicy,
  RouteProtocol,
  type Backend,
  type EndpointStatus,
  type HealthCheck,
  type Route,
} from '../gen/switchyard/v1/route.js';
export type {
  Backend,
  Endpoint,
  EndpointStats,
  EndpointStatus,
  HealthCheck,
  PlacedRoute,
  Route,
  RouteChange,
  RouteListen,
  RouteStats,
  RouteStatus,
} from '../gen/switchyard/v1/route.js';
export { BackendHealth, HealthCheckKind, RoutePolicy, RouteProtocol };

export const policies = names<RoutePolicy>(
  [
    [RoutePolicy.ROUTE_POLICY_WEIGHTED, 'weighted'],
    [RoutePolicy.ROUTE_POLICY_LEAST_CONNECTIONS, 'least-connections'],
  ],
  'weighted',
);

export const protocols = names<RouteProtocol>([[RouteProtocol.ROUTE_PROTOCOL_TCP, 'tcp']], 'tcp');

export const checkKinds = names<HealthCheckKind>(
  [
    [HealthCheckKind.HEALTH_CHECK_KIND_TCP, 'tcp'],
    [HealthCheckKind.HEALTH_CHECK_KIND_HTTP, 'http'],
  ],
  'tcp',
);

export const healthNames = names<BackendHealth>(
  [
    [BackendHealth.BACKEND_HEALTH_UNSPECIFIED, 'unknown'],
    [BackendHealth.BACKEND_HEALTH_HEALTHY, 'healthy'],
    [BackendHealth.BACKEND_HEALTH_DEGRADED, 'degraded'],
    [BackendHealth.BACKEND_HEALTH_UNHEALTHY, 'unhealthy'],
    [BackendHealth.BACKEND_HEALTH_DRAINING, 'draining'],
  ],
  'unknown',
);

export const ROUTE_DEFAULTS = {
  listenHost: '0.0.0.0',
  healthCheck: {
    kind: HealthCheckKind.HEALTH_CHECK_KIND_TCP,
    intervalMs: 2000,
    timeoutMs: 1000,
    unhealthyAfter: 3,
    healthyAfter: 2,
    path: '/',
  } satisfies HealthCheck,
  holdTimeoutMs: 30_000,
  drainTimeoutMs: 30_000,
  promoteSteps: [5, 25, 50, 100],
  promoteIntervalMs: 10_000,
} as const;

/** Bounds on a routing table: a hostile request or file can't balloon the controller. */
export const ROUTE_LIMITS = {
  routes: 256,
  backends: 64,
  /** What a route's backends resolve to: a workload is two endpoints while it migrates. */
  endpoints: 128,
  versionLength: 32,
} as const;

/** What an operator calls a backend: its workload or its address. */
export function backendLabel(b: Backend): string {
  return b.workload || b.address;
}

/** Backends an operator's word picks out: by version label, workload name or address. */
export function backendsNamed(route: Route, word: string): Backend[] {
  return route.backends.filter((b) => b.version === word || b.workload === word || b.address === word);
}

function checkSomeWeight(route: Route): void {
  if (!route.backends.some((b) => b.weight > 0 && !b.drain)) {
    throw new YardError(
      'INVALID_ARGUMENT',
      `route ${route.name}: every backend has weight 0 or is drained, so nothing would take its traffic; give one a weight above 0`,
      { route: route.name },
    );
  }
}

/** A copy of `route` with each named version's backends at the given weight (0-100). */
export function withWeights(route: Route, weights: Record<string, number>): Route {
  const next = structuredClone(route);
  for (const [version, weight] of Object.entries(weights)) {
    if (!Number.isInteger(weight) || weight < 0 || weight > 100)
      throw new YardError(
        'INVALID_ARGUMENT',
        `weight of ${version} must be a whole number from 0 to 100, not ${weight}`,
      );
    const hit = next.backends.filter((b) => b.version === version);
    if (hit.length === 0) throw unknownVersion(route, version);
    for (const b of hit) {
      b.weight = weight;
      if (weight > 0) b.drain = false;
    }
  }
  checkSomeWeight(next);
  return next;
}

/**
 * One step of a promotion: `version` takes `percent` of the traffic, shared evenly among its
 * backends; the others share the rest in proportion to their weights in `base` (evenly when
 * those are all 0).
 */
export function promotionStep(base: Route, version: string, percent: number): Route {
  const next = structuredClone(base);
  const ours = next.backends.filter((b) => b.version === version);
  if (ours.length === 0) throw unknownVersion(base, version);
  const others = next.backends.filter((b) => b.version !== version);
  for (const b of ours) {
    b.weight = Math.round(percent / ours.length);
    b.drain = false;
  }
  const rest = 100 - percent;
  const total = others.reduce((s, b) => s + b.weight, 0);
  for (const b of others) b.weight = Math.round(total > 0 ? (rest * b.weight) / total : rest / others.length);
  checkSomeWeight(next);
  return next;
}

/**
 * An endpoint's health in one word: `standby` for a backend at weight 0 that is not drained,
 * passes its checks and has no connection left to finish (ready to take traffic; its proxy
 * counts it as draining, since it takes no new connections), else the word its proxy reported.
 */
export function endpointHealth(e: EndpointStatus): string {
  const health = e.stats?.health ?? BackendHealth.BACKEND_HEALTH_UNSPECIFIED;
  const idle =
    health === BackendHealth.BACKEND_HEALTH_HEALTHY ||
    (health === BackendHealth.BACKEND_HEALTH_DRAINING && e.stats?.active === 0);
  const standby = e.endpoint && e.endpoint.weight === 0 && !e.endpoint.draining && e.stats?.checksPassing && idle;
  return standby ? 'standby' : healthNames.name(health);
}

/** The share of a route's traffic, in percent, that `version` takes now (drained backends take none). */
export function versionShare(route: Route, version: string): number {
  const live = route.backends.filter((b) => !b.drain);
  const total = live.reduce((s, b) => s + b.weight, 0);
  const ours = live.filter((b) => b.version === version).reduce((s, b) => s + b.weight, 0);
  return total > 0 ? Math.round((100 * ours) / total) : 0;
}

/**
 * The steps a promotion takes from where the version stands: a step at or below its share now
 * would cut its traffic first, so it is skipped. The last step (100) always stays.
 */
export function stepsFrom(steps: readonly number[], share: number): number[] {
  const ahead = steps.filter((s) => s > share);
  return ahead.length > 0 ? ahead : steps.slice(-1);
}

/** Checks promotion steps: rising percentages from 1 to 100 that end at 100. */
export function checkSteps(steps: readonly number[]): number[] {
  if (steps.length === 0) return [...ROUTE_DEFAULTS.promoteSteps];
  let last = 0;
  for (const s of steps) {
    if (!Number.isInteger(s) || s < 1 || s > 100 || s <= last) {
      throw new YardError(
        'INVALID_ARGUMENT',
        `--steps ${steps.join(',')}: steps must be whole percentages, rising, from 1 to 100 (e.g. 5,25,50,100)`,
      );
    }
    last = s;
  }
  if (last !== 100)
    throw new YardError(
      'INVALID_ARGUMENT',
      `--steps ${steps.join(',')}: the last step must be 100 (the version then takes all the traffic)`,
    );
  return [...steps];
}

function unknownVersion(route: Route, version: string): YardError {
  const known = [...new Set(route.backends.map((b) => b.version).filter(Boolean))];
  return new YardError(
    'NOT_FOUND',
    `route ${route.name} has no backend with version "${version}"${known.length ? `; its versions: ${known.join(', ')}` : ''}`,
    { route: route.name, version },
  );
}
