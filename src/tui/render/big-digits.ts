import type { Glyphs } from '../glyphs.js';

/** Rows a big number takes on screen. */
const BIG_HEIGHT = 3;
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
  '?': ['###', '  #', ' ##', '   ', ' # '],
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
  '?': [' _ ', ' _|', ' . '],
  ' ': ['   ', '   ', '   '],
};

/**
 * A character's pixels at `scale` (each pixel `scale` columns wide and `scale` pixel rows tall),
 * drawn with half blocks: each text row holds two pixel rows, so five fit in three at scale 1.
 */
function halfBlocks(pixels: readonly string[], scale: number): string[] {
  const tall = pixels.flatMap((row) =>
    Array.from({ length: scale }, () => [...row].map((p) => p.repeat(scale)).join('')),
  );
  const rows: string[] = [];
  for (let r = 0; r < bigHeight(scale); r++) {
    const top = tall[r * 2] ?? '';
    const bottom = tall[r * 2 + 1] ?? '';
    let row = '';
    for (let c = 0; c < CHAR_WIDTH * scale; c++) {
      const up = top[c] === '#';
      const down = bottom[c] === '#';
      row += up && down ? '█' : up ? '▀' : down ? '▄' : ' ';
    }
    rows.push(row);
  }
  return rows;
}

const blockFonts = new Map<number, Record<string, readonly string[]>>();
function blockFont(scale: number): Record<string, readonly string[]> {
  let font = blockFonts.get(scale);
  if (!font) {
    font = Object.fromEntries(Object.entries(PIXELS).map(([ch, pixels]) => [ch, halfBlocks(pixels, scale)]));
    blockFonts.set(scale, font);
  }
  return font;
}

/** Rows a big number takes at `scale` (ASCII's seven segments come in one size). */
export function bigHeight(scale: number, glyphs?: Glyphs): number {
  return glyphs && !glyphs.unicode ? BIG_HEIGHT : Math.ceil((5 * scale) / 2);
}

/** Columns `text` takes at `scale`. */
export function bigWidth(text: string, scale: number, glyphs?: Glyphs): number {
  const s = glyphs && !glyphs.unicode ? 1 : scale;
  const n = [...text].length;
  return n === 0 ? 0 : n * CHAR_WIDTH * s + (n - 1) * GAP * s;
}

/**
 * `text` (digits, "%", "-", ".", "?") as rows of big characters, readable across a room;
 * characters the font lacks are blanks. `scale` 2 and up draw larger (Unicode only).
 */
export function bigText(text: string, glyphs: Glyphs, scale = 1): string[] {
  const s = glyphs.unicode ? scale : 1;
  const font = glyphs.unicode ? blockFont(s) : SEGMENTS;
  const height = bigHeight(s, glyphs);
  const rows = Array.from({ length: height }, () => '');
  [...text].forEach((ch, i) => {
    const glyph = font[ch] ?? font[' ']!;
    for (let r = 0; r < height; r++) rows[r] += (i > 0 ? ' '.repeat(GAP * s) : '') + glyph[r]!;
  });
  return rows;
}
