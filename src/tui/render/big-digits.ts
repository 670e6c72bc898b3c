import type { Glyphs } from '../glyphs.js';

/** Rows a big number takes on screen. */
export const BIG_HEIGHT = 3;
/** Columns a big character takes, and the gap after it. */
const CHAR_WIDTH = 3;
const GAP = 1;

/**
 * 3x5 pixel characters ('#' on), drawn with half blocks: each text row holds two pixel rows,
 * so five pixel rows fit in three text rows.
 */
const PIXELS: Record<string, readonly string[]> = {
  '0': ['###', '# #', '# #', '# #', '###'],
  '1': [' # ', '## ', ' # ', ' # ', '###'],
  '2': ['###', '  #', '###', '#  ', '###'],
  '3': ['###', '  #', '###', '  #', '###'],
  '4': ['# #', '# #', '###', '  #', '  #'],
  '5': ['###', '#  ', '###', '  #', '###'],
  '6': ['###', '#  ', '###', '# #', '###'],
  '7': ['###', '  #', '  #', '  #', '  #'],
  '8': ['###', '# #', '###', '# #', '###'],
  '9': ['###', '# #', '###', '  #', '###'],
  '%': ['# #', '  #', ' # ', '#  ', '# #'],
  '-': ['   ', '   ', '###', '   ', '   '],
  '.': ['   ', '   ', '   ', '   ', ' # '],
  ' ': ['   ', '   ', '   ', '   ', '   '],
};

/** The same characters as seven-segment ASCII art, for terminals without block elements. */
const SEGMENTS: Record<string, readonly string[]> = {
  '0': [' _ ', '| |', '|_|'],
  '1': ['   ', '  |', '  |'],
  '2': [' _ ', ' _|', '|_ '],
  '3': [' _ ', ' _|', ' _|'],
  '4': ['   ', '|_|', '  |'],
  '5': [' _ ', '|_ ', ' _|'],
  '6': [' _ ', '|_ ', '|_|'],
  '7': [' _ ', '  |', '  |'],
  '8': [' _ ', '|_|', '|_|'],
  '9': [' _ ', '|_|', ' _|'],
  '%': ['o  ', '  /', ' /o'],
  '-': ['   ', ' _ ', '   '],
  '.': ['   ', '   ', ' . '],
  ' ': ['   ', '   ', '   '],
};

function halfBlocks(pixels: readonly string[]): string[] {
  const rows: string[] = [];
  for (let r = 0; r < BIG_HEIGHT; r++) {
    const top = pixels[r * 2] ?? '   ';
    const bottom = pixels[r * 2 + 1] ?? '   ';
    let row = '';
    for (let c = 0; c < CHAR_WIDTH; c++) {
      const up = top[c] === '#';
      const down = bottom[c] === '#';
      row += up && down ? '█' : up ? '▀' : down ? '▄' : ' ';
    }
    rows.push(row);
  }
  return rows;
}

const BLOCK_FONT: Record<string, readonly string[]> = Object.fromEntries(Object.entries(PIXELS).map(([ch, pixels]) => [ch, halfBlocks(pixels)]));

/**
 * `text` (digits, "%", "-", ".") as BIG_HEIGHT rows of big characters, readable across a room;
 * characters the font lacks are blanks.
 */
export function bigText(text: string, glyphs: Glyphs): string[] {
  const font = glyphs.unicode ? BLOCK_FONT : SEGMENTS;
  const rows = Array.from({ length: BIG_HEIGHT }, () => '');
  [...text].forEach((ch, i) => {
    const glyph = font[ch] ?? font[' ']!;
    for (let r = 0; r < BIG_HEIGHT; r++) rows[r] += (i > 0 ? ' '.repeat(GAP) : '') + glyph[r]!;
  });
  return rows;
}
