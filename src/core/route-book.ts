import type { RouteState } from './domain.js';
import type { FleetRoute } from './fleet.js';
import { RingBuffer } from './ring.js';
import { ROUTE_LIMITS } from './route.js';

/** Throughput points kept per endpoint: two minutes of 1 Hz reports, wider than any sparkline. */
export const ROUTE_HISTORY_POINTS = 120;

class BookedRoute implements FleetRoute {
  private readonly rings = new Map<string, RingBuffer>();

  constructor(public status: RouteState) {
    this.record();
  }

  history(endpointKey: string): readonly number[] {
    return this.rings.get(endpointKey)?.values() ?? [];
  }

  /** Takes a newer status: a new report adds a point per endpoint; endpoints that went are forgotten. */
  update(status: RouteState): void {
    const reported = status.statsMs !== this.status.statsMs;
    this.status = status;
    const keys = new Set(status.endpoints.map((e) => e.endpoint.key));
    for (const key of this.rings.keys()) if (!keys.has(key)) this.rings.delete(key);
    if (reported) this.record();
  }

  private record(): void {
    if (this.status.statsMs === 0) return;
    for (const e of this.status.endpoints) {
      const key = e.endpoint.key;
      let ring = this.rings.get(key);
      if (!ring) {
        ring = new RingBuffer(ROUTE_HISTORY_POINTS);
        this.rings.set(key, ring);
      }
      ring.push(e.bytesPerSec);
    }
  }
}

/** Older than what we hold: an earlier revision, or the same one with an earlier report. */
function isOlder(next: RouteState, known: RouteState): boolean {
  const a = next.route.revision;
  const b = known.route.revision;
  return a < b || (a === b && next.statsMs < known.statsMs);
}

/**
 * The routes a dashboard shows: each route's latest status, and per endpoint a ring of its
 * bytes/s, one point per proxy report. Bounded: at most ROUTE_LIMITS.routes routes, and
 * each route's endpoints as its status lists them. No I/O; the fleet sources feed it.
 */
export class RouteBook {
  private readonly byName = new Map<string, BookedRoute>();
  private sorted?: FleetRoute[];

  list(): readonly FleetRoute[] {
    this.sorted ??= [...this.byName.values()].sort((a, b) => serviceOf(a.status).localeCompare(serviceOf(b.status)));
    return this.sorted;
  }

  get(service: string): FleetRoute | undefined {
    return this.byName.get(service);
  }

  /** Adds or updates a route; false when nothing was taken (a status older than ours, or no room). */
  /**
   * Takes a route's status. 'counters': only its proxy's new report (same table); 'table':
   * anything else; undefined: nothing changed (older than what is held, or over the bound).
   */
  put(status: RouteState): 'table' | 'counters' | undefined {
    const key = serviceOf(status);
    const known = this.byName.get(key);
    if (known) {
      if (isOlder(status, known.status)) return undefined;
      const counters = status.route.revision === known.status.route.revision && status.statsMs !== known.status.statsMs;
      known.update(status);
      return counters ? 'counters' : 'table';
    }
    if (key === '' || this.byName.size >= ROUTE_LIMITS.routes) return undefined;
    this.byName.set(key, new BookedRoute(status));
    this.sorted = undefined;
    return 'table';
  }

  remove(service: string): boolean {
    if (!this.byName.delete(service)) return false;
    this.sorted = undefined;
    return true;
  }

  /** The whole table at once (a fresh list): routes it lacks are dropped. Returns the names that changed. */
  replace(statuses: readonly RouteState[]): string[] {
    const present = new Set(statuses.map(serviceOf));
    const changed: string[] = [];
    for (const service of [...this.byName.keys()])
      if (!present.has(service) && this.remove(service)) changed.push(service);
    for (const status of statuses) if (this.put(status)) changed.push(serviceOf(status));
    return changed;
  }
}

function serviceOf(status: RouteState): string {
  return status.route.name;
}
