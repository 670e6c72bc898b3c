import type { Colour } from '../theme.js';
import { escapeTags, paint } from './paint.js';

/**
 * One reading in a legend line. `forms` go from the fullest to the shortest ("power 590W of
 * 700W", "power 590W", "590W"): each shorter form drops secondary text or a label, never a digit.
 */
export interface LegendItem {
  forms: readonly string[];
  colour: Colour;
}

const GAP = '  ';

function widthOf(texts: readonly string[]): number {
  return texts.reduce((n, t) => n + [...t].length, 0) + GAP.length * Math.max(0, texts.length - 1);
}

/**
 * The items as one tagged line of at most `width` columns, in their order, which is also their
 * importance. Where they do not fit, the later items take their shorter forms first, then the
 * last items are dropped whole: a number is shown with all its digits or not at all.
 */
export function fitLegend(items: readonly LegendItem[], width: number): string {
  const level = items.map(() => 0);
  const texts = (): string[] => items.map((item, i) => item.forms[level[i]!]!);
  const deepest = Math.max(0, ...items.map((item) => item.forms.length - 1));
  for (let step = 1; step <= deepest && widthOf(texts()) > width; step++) {
    for (let i = items.length - 1; i >= 0 && widthOf(texts()) > width; i--) {
      if (items[i]!.forms.length > step) level[i] = step;
    }
  }
  let kept = items.length;
  while (kept > 0 && widthOf(texts().slice(0, kept)) > width) kept--;
  return texts()
    .slice(0, kept)
    .map((text, i) => paint(items[i]!.colour, escapeTags(text)))
    .join(GAP);
}
