import type { Glyphs } from '../glyphs.js';

/**
 * A one-row sparkline of the newest `width` values, newest on the right. NaN (unknown) is a
 * gap, not the lowest level; with too little history the left side stays blank.
 */
export function sparkline(values: readonly number[], width: number, glyphs: Glyphs, max?: number): string {
  if (width <= 0) return '';
  const shown = values.slice(-width);
  let top = max ?? 0;
  if (max === undefined) for (const v of shown) if (v > top) top = v;
  const levels = glyphs.spark.length;
  let out = ' '.repeat(width - shown.length);
  for (const v of shown) {
    if (Number.isNaN(v)) {
      out += ' ';
      continue;
    }
    const level = top <= 0 ? 0 : Math.round((Math.min(Math.max(v, 0), top) / top) * (levels - 1));
    out += glyphs.spark[level]!;
  }
  return out;
}
