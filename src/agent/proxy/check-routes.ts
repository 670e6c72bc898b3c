// Checks the routes a controller places before anything is bound: a bad table changes nothing.
import { isIP } from 'node:net';
import { isHostName, parseHostPort } from '../../core/address.js';
import { YardError } from '../../core/errors.js';
import { ROUTE_DEFAULTS, ROUTE_LIMITS, type Endpoint, type HealthCheck, type PlacedRoute } from '../../core/route.js';
import { listenKey } from './listener.js';

/** Timers above this are surely a mistake (and Node's own ceiling is 24.8 days). */
const MAX_TIMEOUT_MS = 24 * 3600_000;
const MAX_CHECK_COUNT = 100;

function invalid(message: string, details: Record<string, string> = {}): YardError {
  return new YardError('INVALID_ARGUMENT', `${message}; the controller sent a table this agent cannot apply`, details);
}

/** The address a route listens on: its host (0.0.0.0 when unset) and port. */
export function listenAddress(route: PlacedRoute): { host: string; port: number; key: string } {
  const host = route.listenHost || ROUTE_DEFAULTS.listenHost;
  return { host, port: route.listenPort, key: listenKey(host, route.listenPort) };
}

export function checkPlacedRoutes(routes: PlacedRoute[]): void {
  if (routes.length > ROUTE_LIMITS.routes)
    throw invalid(`${routes.length} routes is more than one proxy serves (${ROUTE_LIMITS.routes})`);
  const names = new Set<string>();
  const listens = new Map<string, string>();
  for (const route of routes) {
    if (!route.name) throw invalid('a route has no name');
    if (names.has(route.name)) throw invalid(`route ${route.name} is placed twice`, { route: route.name });
    names.add(route.name);
    checkRoute(route);
    const { key } = listenAddress(route);
    const other = listens.get(key);
    if (other) throw invalid(`routes ${other} and ${route.name} both listen on ${key}`, { route: route.name });
    listens.set(key, route.name);
  }
}

function checkRoute(route: PlacedRoute): void {
  const what = `route ${route.name}`;
  const details = { route: route.name };
  if (!Number.isInteger(route.listenPort) || route.listenPort < 1 || route.listenPort > 65535)
    throw invalid(`${what}: listen port ${route.listenPort} is not 1-65535`, details);
  const host = route.listenHost;
  if (host && isIP(host) === 0 && !isHostName(host))
    throw invalid(`${what}: listen host "${host}" is not an IP address or host name`, details);
  if (route.holdTimeoutMs > MAX_TIMEOUT_MS)
    throw invalid(`${what}: hold timeout ${route.holdTimeoutMs} ms is over a day`, details);
  if (route.healthCheck) checkHealth(route.healthCheck, what, details);
  if (route.endpoints.length > ROUTE_LIMITS.endpoints)
    throw invalid(`${what} has ${route.endpoints.length} endpoints, more than ${ROUTE_LIMITS.endpoints}`, details);
  const keys = new Set<string>();
  for (const ep of route.endpoints) {
    if (!ep.key) throw invalid(`${what}: an endpoint has no key`, details);
    if (keys.has(ep.key)) throw invalid(`${what}: endpoint ${ep.key} appears twice`, details);
    keys.add(ep.key);
    checkEndpoint(ep, what, details);
  }
}

function checkEndpoint(ep: Endpoint, what: string, details: Record<string, string>): void {
  const where = `${what}: endpoint ${ep.key}`;
  if (!Number.isInteger(ep.weight) || ep.weight < 0 || ep.weight > 100)
    throw invalid(`${where}: weight ${ep.weight} is not 0-100`, details);
  if (ep.drainTimeoutMs > MAX_TIMEOUT_MS)
    throw invalid(`${where}: drain timeout ${ep.drainTimeoutMs} ms is over a day`, details);
  if (!ep.address) return;
  let port = 0;
  try {
    port = parseHostPort(ep.address, `${where}: address`).port;
  } catch (err) {
    throw invalid((err as Error).message, details);
  }
  if (port < 1) throw invalid(`${where}: address ${ep.address} has port 0`, details);
}

function checkHealth(h: HealthCheck, what: string, details: Record<string, string>): void {
  if (h.intervalMs > MAX_TIMEOUT_MS || h.timeoutMs > MAX_TIMEOUT_MS)
    throw invalid(`${what}: health check interval or timeout is over a day`, details);
  if (h.unhealthyAfter > MAX_CHECK_COUNT || h.healthyAfter > MAX_CHECK_COUNT)
    throw invalid(`${what}: health check thresholds must be at most ${MAX_CHECK_COUNT}`, details);
  if (h.path && (!h.path.startsWith('/') || h.path.length > 1024 || /[\s]/.test(h.path)))
    throw invalid(`${what}: health check path "${h.path}" must start with / and have no spaces`, details);
}
