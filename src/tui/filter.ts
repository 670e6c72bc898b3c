import type { Server } from '../core/types.js';

/** What the `/` filter looks at in a row: names matched as substrings, and labels. */
export interface Filterable {
  names: readonly string[];
  labels: Readonly<Record<string, string>>;
}

/** A filter written `/like this/`: the text between the slashes is a regex. */
const REGEX_FORM = /^\/(.+)\/$/;

function compile(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'i');
  } catch {
    return undefined;
  }
}

/** Why a filter does not do what it looks like it does (a broken regex), for the footer. */
export function filterProblem(text: string): string | undefined {
  const m = REGEX_FORM.exec(text.trim());
  return m && !compile(m[1]!) ? 'not a valid regex: matched as text' : undefined;
}

/**
 * The `/` filter. `/regex/` matches names and `key=value` labels (case-insensitive). Otherwise
 * words separated by spaces must all match (case-insensitive): `key=value` matches a label
 * with that key whose value contains `value`; any other word is a substring of a name or of a
 * `key=value` label. A regex that does not compile is matched as plain text.
 */
export function textFilter(text: string): (item: Filterable) => boolean {
  const m = REGEX_FORM.exec(text.trim());
  const regex = m ? compile(m[1]!) : undefined;
  if (regex)
    return (item) =>
      item.names.some((n) => regex.test(n)) || Object.entries(item.labels).some(([k, v]) => regex.test(`${k}=${v}`));
  const words = (m ? m[1]! : text)
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return () => true;
  return (item) => words.every((word) => matches(item, word));
}

/** The filter over servers: their name, hostname and labels. */
export function serverFilter(text: string): (server: Server) => boolean {
  const keep = textFilter(text);
  return (server) => keep({ names: [server.name, server.hostname], labels: server.labels });
}

function matches(item: Filterable, word: string): boolean {
  const eq = word.indexOf('=');
  if (eq > 0) {
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    return Object.entries(item.labels).some(([k, v]) => k.toLowerCase() === key && v.toLowerCase().includes(value));
  }
  if (item.names.some((name) => name.toLowerCase().includes(word))) return true;
  return Object.entries(item.labels).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(word));
}
