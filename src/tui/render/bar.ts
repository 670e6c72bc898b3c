import type { Glyphs } from '../glyphs.js';
import { isKnown } from '../../core/format/numbers.js';

export interface BarParts {
  filled: string;
  empty: string;
}

/** A horizontal percentage bar, split so the caller can colour the filled part by level. */
export function bar(pct: number | undefined, width: number, glyphs: Glyphs): BarParts {
  if (width <= 0) return { filled: '', empty: '' };
  if (!isKnown(pct)) return { filled: '', empty: glyphs.barEmpty.repeat(width) };
  const clamped = Math.min(Math.max(pct, 0), 100);
  const steps = glyphs.barPartial.length + 1;
  const units = Math.round((clamped / 100) * width * steps);
  const full = Math.floor(units / steps);
  const rest = units % steps;
  let filled = glyphs.barFull.repeat(full);
  if (rest > 0) filled += glyphs.barPartial[rest - 1]!;
  const used = full + (rest > 0 ? 1 : 0);
  return { filled, empty: glyphs.barEmpty.repeat(width - used) };
}

export type Level = 'ok' | 'warn' | 'crit';

/** The alert level of a utilisation percentage, for colouring. */
export function level(pct: number | undefined): Level {
  if (!isKnown(pct) || pct < 60) return 'ok';
  return pct < 85 ? 'warn' : 'crit';
}
