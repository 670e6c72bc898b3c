import { printable } from '../../core/printable.js';

// Text fitted to a width. Numbers, sizes and spans are written by core/format, alike in the CLI.

/**
 * Where a cut before `at` must move so that no number is left with some of its digits: to the
 * start of the number it falls in. A number starts a word ("590W", "38.2/80.0", "(31%)"); digits
 * inside a name ("node-0012") are not one, so a name is still cut where it must be.
 */
function cutOutsideNumber(chars: readonly string[], at: number): number {
  if (at <= 0 || at >= chars.length || !/[\d.,]/.test(chars[at]!) || !/[\d.,]/.test(chars[at - 1]!)) return at;
  let start = at;
  while (start > 0 && /[\d.,/]/.test(chars[start - 1]!)) start--;
  return start === 0 || /[\s(=:[]/.test(chars[start - 1]!) ? start : at;
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
