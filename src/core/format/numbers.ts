// Numbers as the CLI and the dashboard both print them. An unknown reading (undefined, NaN or
// infinite) prints as the caller's "unknown" mark, never as 0.

export const UNKNOWN = '–';

export function isKnown(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v);
}

/** "87%": a share of 100, rounded. */
export function pctText(v: number | undefined, unknown = UNKNOWN): string {
  return isKnown(v) ? `${Math.round(v)}%` : unknown;
}

/**
 * `n` in the largest of `units` (each `base` times the one before) that keeps it below `base`,
 * as [number, unit], with `digits` decimals. A value that would round up to `base` ("1024.0")
 * is written in the next unit ("1.0").
 */
export function inUnits(
  n: number,
  base: number,
  units: readonly string[],
  digits: (v: number, unit: number) => number,
): [string, string] {
  let v = n;
  let i = 0;
  while (Math.abs(v) >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  if (Math.abs(Number(v.toFixed(digits(v, i)))) >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return [v.toFixed(digits(v, i)), units[i]!];
}

/** One decimal under 100, none above or in the smallest unit: "931G", "1.5T", "12.3M", "0B". */
export function scaled(n: number, base: number, units: readonly string[]): string {
  return inUnits(n, base, units, (v, i) => (i === 0 || Math.abs(v) >= 99.95 ? 0 : 1)).join('');
}

/** "980", "9999", "12.3k", "4.5M": counters (connections, errors), exact below ten thousand. */
export function countText(n: number | undefined, unknown = UNKNOWN): string {
  if (!isKnown(n)) return unknown;
  return Math.abs(n) < 10_000 ? String(Math.round(n)) : scaled(n, 1000, ['', 'k', 'M', 'G', 'T']);
}
