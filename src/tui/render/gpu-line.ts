import type { GpuSeries } from '../../core/series.js';
import type { GpuSample } from '../../core/types.js';
import { level } from './bar.js';
import { gibPair } from '../../core/format/bytes.js';
import { isKnown, pctText } from '../../core/format/numbers.js';
import { padLeft } from './format.js';
import type { Look } from './look.js';
import { paint } from './paint.js';
import { sparkline } from './sparkline.js';

/** Columns a GPU line needs besides its sparkline. */
const FIXED = 3 + 1 + 1 + 4 + 1 + 14 + 1 + 5 + 1 + 5;

/**
 * "G0  ▂▄▆█  87% 38.2/80.0 GiB  71°C  312W". Any reading the board did not give ([N/A]) is
 * the unknown mark, never 0. A GPU that appears in capabilities but not yet in a sample
 * shows only unknowns.
 */
export function gpuLine(
  index: number,
  sample: GpuSample | undefined,
  history: GpuSeries | undefined,
  width: number,
  look: Look,
  stale: boolean,
): string {
  const { theme, glyphs } = look;
  const u = glyphs.unknown;
  const util = sample?.utilizationPct;
  const sparkWidth = Math.max(0, width - FIXED);
  const spark = sparkline(history?.utilization.values(sparkWidth) ?? [], sparkWidth, glyphs, 100);
  const label = `G${index}`.padEnd(3);
  const utilText = padLeft(pctText(util, u), 4);
  const mem = padLeft(gibPair(sample?.memoryUsedMib, sample?.memoryTotalMib, u), 14);
  const temp = padLeft(isKnown(sample?.temperatureC) ? `${Math.round(sample.temperatureC)}${glyphs.degree}` : u, 5);
  const power = padLeft(isKnown(sample?.powerW) ? `${Math.round(sample.powerW)}W` : u, 5);
  // Narrower than the readings need, they go whole from the right (power first): the box edge
  // would otherwise cut "312W" to "31".
  const readings = [mem, temp, power];
  while (readings.length > 0 && label.length + 1 + utilText.length + readings.join(' ').length + 1 > width)
    readings.pop();
  const rest = readings.map((r) => ` ${r}`).join('');
  if (stale) return paint(theme.stale, `${label} ${spark}${spark ? ' ' : ''}${utilText}${rest}`);
  const sparkText = spark ? `${paint(theme.series[0]!, spark)} ` : '';
  return `${label} ${sparkText}${paint(theme.levels[level(util)], utilText)}${rest}`;
}
