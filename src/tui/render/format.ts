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

/** Cuts `text` to `width` columns with an ellipsis, then pads it to exactly `width`. */
export function fit(text: string, width: number, ellipsis: string): string {
  if (width <= 0) return '';
  const chars = [...text];
  if (chars.length <= width) return text + ' '.repeat(width - chars.length);
  return chars.slice(0, Math.max(0, width - ellipsis.length)).join('') + ellipsis.slice(0, width);
}

export function padLeft(text: string, width: number): string {
  const n = [...text].length;
  return n >= width ? text : ' '.repeat(width - n) + text;
}
