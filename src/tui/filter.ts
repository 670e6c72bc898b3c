import type { Server } from '../core/types.js';

/**
 * The `/` filter. Words separated by spaces must all match (case-insensitive): `key=value`
 * matches a label with that key whose value contains `value`; any other word is a substring
 * of the name, the hostname, or a `key=value` label.
 */
export function serverFilter(text: string): (server: Server) => boolean {
  const words = text.trim().toLowerCase().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return () => true;
  return (server) => words.every((word) => matches(server, word));
}

function matches(server: Server, word: string): boolean {
  const eq = word.indexOf('=');
  if (eq > 0) {
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    return Object.entries(server.labels).some(([k, v]) => k.toLowerCase() === key && v.toLowerCase().includes(value));
  }
  if (server.name.toLowerCase().includes(word) || server.hostname.toLowerCase().includes(word)) return true;
  return Object.entries(server.labels).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(word));
}
