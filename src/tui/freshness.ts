import { formatAge } from '../core/duration.js';
import { stateName, type Server } from '../core/types.js';

/** A sample older than this is no longer "now" (agents report every second by default). */
export const STALE_AFTER_MS = 5_000;

/** Not heard from: its agent's session is gone, or it has not reported since we started. */
export function isSilent(server: Server): boolean {
  const state = stateName(server.state);
  return state === 'disconnected' || state === 'down' || state === 'unknown';
}

/** True when the numbers on screen are a host's last words rather than its present. */
export function isStale(server: Server, now: number): boolean {
  return isSilent(server) || !server.latest || now - server.latest.timestampMs > STALE_AFTER_MS;
}

/** "last seen 42s ago", from the newest of the heartbeat and the sample. */
export function lastSeenText(server: Server, now: number): string {
  const seen = Math.max(server.lastSeenMs, server.latest?.timestampMs ?? 0);
  return seen > 0 ? `last seen ${formatAge(now - seen)} ago` : 'never seen';
}
