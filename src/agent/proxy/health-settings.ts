// A route's health check with the defaults filled in: zero on the wire means "the default".
import { HealthCheckKind, ROUTE_DEFAULTS, type HealthCheck } from '../../core/route.js';

export type HealthSettings = HealthCheck;

/** Checks more often than this cost more than they tell. */
const MIN_INTERVAL_MS = 100;

export function healthSettings(check: HealthCheck | undefined): HealthSettings {
  const d = ROUTE_DEFAULTS.healthCheck;
  return {
    kind: check?.kind === HealthCheckKind.HEALTH_CHECK_KIND_HTTP ? check.kind : HealthCheckKind.HEALTH_CHECK_KIND_TCP,
    intervalMs: Math.max(MIN_INTERVAL_MS, check?.intervalMs || d.intervalMs),
    timeoutMs: check?.timeoutMs || d.timeoutMs,
    unhealthyAfter: check?.unhealthyAfter || d.unhealthyAfter,
    healthyAfter: check?.healthyAfter || d.healthyAfter,
    path: check?.path || d.path,
  };
}

/** How soon an endpoint that has never passed is checked again. */
export function pendingRecheckMs(s: HealthSettings): number {
  return Math.max(MIN_INTERVAL_MS, Math.round(s.intervalMs / 10));
}

export function sameSettings(a: HealthSettings, b: HealthSettings): boolean {
  return (
    a.kind === b.kind &&
    a.intervalMs === b.intervalMs &&
    a.timeoutMs === b.timeoutMs &&
    a.unhealthyAfter === b.unhealthyAfter &&
    a.healthyAfter === b.healthyAfter &&
    a.path === b.path
  );
}
