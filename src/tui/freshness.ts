import { agoText } from '../core/format/time.js';
import type { Server } from '../core/types.js';

export { isSilent, isStale } from '../core/freshness.js';

/** "last seen 42s ago", from the newest of the heartbeat and the sample. */
export function lastSeenText(server: Server, now: number): string {
  const seen = Math.max(server.lastSeenMs, server.latest?.timestampMs ?? 0);
  return seen > 0 ? `last seen ${agoText(now - seen)}` : 'never seen';
}

/** "31% · 40s ago": a value we hold that is no longer now, with its age. */
export function agedText(value: string, server: Server, now: number, sep: string): string {
  const at = server.latest?.timestampMs ?? 0;
  return at > 0 ? `${value} ${sep} ${agoText(now - at)}` : value;
}
