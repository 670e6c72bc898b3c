import type { EndpointStats, RouteStats, RouteStatus } from '../../core/route.js';

export interface EndpointReading {
  stats: EndpointStats;
  /** bytes in + out when reported: the baseline for the next rate. */
  bytes: number;
  bytesPerSec: number;
}

/** What a route's proxy last said about it, with rates over the last report interval: the counters a RouteStatus shows. */
export interface RouteReading
  extends Pick<
    RouteStatus,
    'serverId' | 'listening' | 'error' | 'heldTotal' | 'heldMaxMs' | 'refused' | 'active' | 'total' | 'bytesPerSec'
  > {
  atMs: number;
  /** By endpoint key: only those the last report named (at most what a route may hold). */
  endpoints: Map<string, EndpointReading>;
}

/** A counter that went backwards (the proxy restarted) starts over: no rate for that interval. */
function rate(bytes: number, prev: EndpointReading | undefined, dtMs: number): number {
  if (!prev || dtMs <= 0 || bytes < prev.bytes) return 0;
  return ((bytes - prev.bytes) * 1000) / dtMs;
}

/**
 * The proxies' reports, merged per route. Holds one reading per route that exists (the router
 * drops a route's reading when it is deleted or moves to another proxy).
 */
export class RouteStatsBook {
  private readonly readings = new Map<string, RouteReading>();

  merge(serverId: string, s: RouteStats, atMs: number): RouteReading {
    const prev = this.readings.get(s.name);
    const before = prev?.serverId === serverId ? prev : undefined;
    const dt = before ? atMs - before.atMs : 0;
    const endpoints = new Map<string, EndpointReading>();
    let bytesPerSec = 0;
    for (const e of s.endpoints) {
      const bytes = e.bytesIn + e.bytesOut;
      const r = rate(bytes, before?.endpoints.get(e.key), dt);
      bytesPerSec += r;
      endpoints.set(e.key, { stats: e, bytes, bytesPerSec: r });
    }
    const reading: RouteReading = {
      serverId,
      atMs,
      listening: s.listening,
      error: s.error,
      heldTotal: s.heldTotal,
      heldMaxMs: s.heldMaxMs,
      refused: s.refused,
      active: s.active,
      total: s.total,
      bytesPerSec,
      endpoints,
    };
    this.readings.set(s.name, reading);
    return reading;
  }

  /** The route's reading, if its proxy is `serverId`. */
  get(name: string, serverId: string): RouteReading | undefined {
    const r = this.readings.get(name);
    return r?.serverId === serverId ? r : undefined;
  }

  drop(name: string): void {
    this.readings.delete(name);
  }
}
