import { printable } from '../../core/printable.js';

// Number formatting for cards and panes. An unknown reading (undefined or NaN) prints as the
// glyph set's "unknown" mark, never as 0.

export function isKnown(v: number | undefined): v is number {
  return v !== undefined && Number.isFinite(v);
}

export function formatPct(v: number | undefined, unknown: string): string {
  return isKnown(v) ? `${Math.round(v)}%` : unknown;
}

function scaled(n: number, base: number, units: readonly string[]): string {
  let i = 0;
  let v = n;
  while (Math.abs(v) >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return `${v.toFixed(digits)}${units[i]}`;
}

/** Sizes (memory, disks) in binary units: "931G", "1.5T". */
export function formatBytes(n: number | undefined, unknown: string): string {
  return isKnown(n) ? scaled(n, 1024, ['B', 'K', 'M', 'G', 'T', 'P']) : unknown;
}

/** Network and disk rates in decimal units, as link speeds are quoted: "12.3MB/s". */
export function formatRate(n: number | undefined, unknown: string): string {
  return isKnown(n) ? `${scaled(n, 1000, ['B', 'kB', 'MB', 'GB', 'TB'])}/s` : unknown;
}

/** GPU memory "38.2/80.0 GiB" from MiB readings; either side may be unknown. */
export function formatGibPair(usedMib: number | undefined, totalMib: number | undefined, unknown: string): string {
  if (!isKnown(usedMib) && !isKnown(totalMib)) return unknown;
  const gib = (mib: number | undefined): string => (isKnown(mib) ? (mib / 1024).toFixed(1) : unknown);
  return `${gib(usedMib)}/${gib(totalMib)} GiB`;
}

/**
 * Where a cut before `at` must move so that no number is left with some of its digits: to the
 * start of the number it falls in. A number starts a word ("590W", "38.2/80.0", "(31%)"); digits
 * inside a name ("node-0012") are not one, so a name is still cut where it must be.
 */
function cutOutsideNumber(chars: readonly string[], at: number): number {
  if (at <= 0 || at >= chars.length || !/[\d.,]/.test(chars[at]!) || !/[\d.,]/.test(chars[at - 1]!)) return at;
  let start = at;
  while (start > 0 && /[\d.,/]/.test(chars[start - 1]!)) start--;
  return start === 0 || /[\s(=:\[]/.test(chars[start - 1]!) ? start : at;
}

/**
 * Cuts `text` to `width` columns with an ellipsis, then pads it to exactly `width`. A control
 * character is counted as the escape it is drawn as (see escapeTags), so the cut is where it shows.
 * A number is never cut short: "power 590W" in 8 columns is "power …", not "power 5…".
 */
export function fit(raw: string, width: number, ellipsis: string): string {
  if (width <= 0) return '';
  const text = printable(raw);
  const chars = [...text];
  if (chars.length <= width) return text + ' '.repeat(width - chars.length);
  const keep = cutOutsideNumber(chars, Math.max(0, width - ellipsis.length));
  const cut = chars.slice(0, keep).join('') + ellipsis.slice(0, width);
  return cut + ' '.repeat(width - [...cut].length);
}

/**
 * Cuts a message to `width` columns at a word boundary, with an ellipsis: a footer notice reads
 * "migration of web started…", never "migration of web sta". A single word longer than the
 * line is cut where it must be (outside any number, as fit does).
 */
export function fitWords(raw: string, width: number, ellipsis: string): string {
  const text = printable(raw);
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= ellipsis.length) return ellipsis.slice(0, Math.max(0, width));
  const room = width - ellipsis.length;
  const space = chars.slice(0, room + 1).lastIndexOf(' ');
  if (space <= 0) return fit(text, width, ellipsis).trimEnd();
  return `${chars.slice(0, space).join('').trimEnd()}${ellipsis}`;
}

export function padLeft(text: string, width: number): string {
  const n = [...text].length;
  return n >= width ? text : ' '.repeat(width - n) + text;
}

/** A span of time, as precise as it is short: "450ms", "1.8s", "42s", "4m05s", "3h12m", "2d04h". */
export function formatSpan(ms: number | undefined, unknown: string): string {
  if (!isKnown(ms)) return unknown;
  const t = Math.max(0, ms);
  if (t < 1000) return `${Math.round(t)}ms`;
  if (t < 10_000) return `${(t / 1000).toFixed(1)}s`;
  const s = Math.floor(t / 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${two(Math.floor(s / 3600) % 24)}h`;
}
