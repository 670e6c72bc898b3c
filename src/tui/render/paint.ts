import blessed from 'blessed';
import { printable } from '../../core/printable.js';
import type { Colour } from '../theme.js';

/**
 * Makes text from agents and operators (names, labels, errors) safe inside tagged content: a
 * `{` prints as itself instead of opening a tag, and a control character (an escape sequence
 * blessed would turn into colours) prints as an escape.
 */
export function escapeTags(text: string): string {
  return blessed.escape(printable(text));
}

/** Wraps already-escaped text in a foreground colour tag; "none" leaves it untouched. */
export function paint(colour: Colour, text: string): string {
  if (colour === 'none' || text === '') return text;
  return `{${colour}-fg}${text}{/${colour}-fg}`;
}

/**
 * Sets a box's colours from the theme in force. Widgets call it at every update, not once:
 * `:theme` swaps the theme's colours under a running dashboard.
 */
export function applyColours(box: blessed.Widgets.BoxElement, fg: Colour, bg: Colour, inverse = false): void {
  const style = box.style as { fg?: string; bg?: string; inverse?: boolean };
  style.fg = fg === 'none' ? undefined : fg;
  style.bg = bg === 'none' ? undefined : bg;
  style.inverse = inverse;
}

/** A border in a theme colour ("none": the terminal's own), with emphasis where asked. */
export function borderStyle(
  colour: Colour,
  emphasis: { bold?: boolean; inverse?: boolean } = {},
): { fg?: string; bold?: boolean; inverse?: boolean } {
  return { ...(colour === 'none' ? {} : { fg: colour }), ...emphasis };
}
