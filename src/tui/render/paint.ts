import blessed from 'blessed';
import type { Colour } from '../theme.js';

/** Makes operator-supplied text (names, labels) safe inside tagged content. */
export function escapeTags(text: string): string {
  return blessed.escape(text);
}

/** Wraps already-escaped text in a foreground colour tag; "none" leaves it untouched. */
export function paint(colour: Colour, text: string): string {
  if (colour === 'none' || text === '') return text;
  return `{${colour}-fg}${text}{/${colour}-fg}`;
}

/** A blessed style for a theme colour pair, leaving out "none" so the terminal's own shows. */
export function blessedStyle(fg: Colour, bg: Colour, inverse = false): { fg?: string; bg?: string; inverse?: boolean } {
  return {
    ...(fg === 'none' ? {} : { fg }),
    ...(bg === 'none' ? {} : { bg }),
    ...(inverse ? { inverse: true } : {}),
  };
}
