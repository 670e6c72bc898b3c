import type { Readings } from '../../core/ring.js';
import { bar, level } from './bar.js';
import { pctText } from '../../core/format/numbers.js';
import { padLeft } from './format.js';
import type { Look } from './look.js';
import { paint } from './paint.js';
import { sparkline } from './sparkline.js';

/**
 * "CPU ██████░░░░  54% ▁▂▃▅▇": a label, a percentage bar coloured by level, the value and its
 * recent history. A stale reading is drawn entirely in the stale colour.
 */
export function meterLine(
  label: string,
  pct: number | undefined,
  history: Readings | undefined,
  width: number,
  look: Look,
  stale: boolean,
): string {
  const { theme, glyphs } = look;
  const fixed = label.length + 1 + 5 + 1;
  const room = Math.max(0, width - fixed);
  const barWidth = Math.ceil(room / 2);
  const sparkWidth = room - barWidth;
  const parts = bar(pct, barWidth, glyphs);
  const value = padLeft(pctText(pct, glyphs.unknown), 5);
  const spark = sparkline(history?.values(sparkWidth) ?? [], sparkWidth, glyphs, 100);
  if (stale) return paint(theme.stale, `${label} ${parts.filled}${parts.empty}${value} ${spark}`);
  const filled = paint(theme.levels[level(pct)], parts.filled);
  return `${label} ${filled}${paint(theme.muted, parts.empty)}${value} ${paint(theme.series[0]!, spark)}`;
}
