import { stateName, type Server } from './types.js';

/** A sample older than this is no longer "now" (agents report every second by default). */
const STALE_AFTER_MS = 5_000;

/** Not heard from: its agent's session is gone, or it has not reported since we started (or since we lost the controller). */
export function isSilent(server: Server): boolean {
  const state = stateName(server.state);
  return state === 'disconnected' || state === 'down' || state === 'unknown';
}

/** True when the numbers we hold are a host's last words rather than its present. */
export function isStale(server: Server, now: number): boolean {
  return isSilent(server) || !server.latest || now - server.latest.timestampMs > STALE_AFTER_MS;
}
