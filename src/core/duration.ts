import { YardError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "500ms", "1s", "1.5m", "2h" (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) {
    throw new YardError('INVALID_DURATION', `${what} "${text}" is not a duration: use e.g. 500ms, 1s, 2m`);
  }
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms']!;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new YardError('INVALID_DURATION', `${what} "${text}" must be greater than zero`);
  }
  return Math.round(ms);
}
