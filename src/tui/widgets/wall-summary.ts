import blessed from 'blessed';
import { bigHeight, bigText, bigWidth } from '../render/big-digits.js';
import { fit } from '../render/format.js';
import type { Look } from '../render/look.js';
import { escapeTags, paint } from '../render/paint.js';
import { hide, place, type Rect } from './rect.js';

/** One number on a wall page's summary: "RUNNING 12"; `alarm` paints it in the alarm colour. */
export interface Tile {
  caption: string;
  value: number;
  alarm?: boolean;
}

const MOST_SCALE = 4;
/** The caption and a blank row under the numbers. */
const CAPTION_ROWS = 2;

/** The biggest digits that put every tile's number side by side in `width` and `height` rows. */
function scaleFor(tiles: readonly Tile[], width: number, height: number, look: Look): number {
  const column = Math.floor(width / Math.max(1, tiles.length));
  const widest = tiles.reduce((w, t) => Math.max(w, String(t.value).length), 1);
  let scale = 1;
  while (
    scale < MOST_SCALE &&
    look.glyphs.unicode &&
    bigWidth('8'.repeat(widest), scale + 1) < column - 1 &&
    CAPTION_ROWS + bigHeight(scale + 1) <= height
  )
    scale++;
  return scale;
}

/** Rows a summary needs at the scale that fits `height` (the most it may take). */
export function summaryHeight(tiles: readonly Tile[], width: number, height: number, look: Look): number {
  return CAPTION_ROWS + bigHeight(scaleFor(tiles, width, height, look), look.glyphs);
}

/** A wall page's headline: a few counts in big digits, read across a room, above its table. */
export class WallSummary {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = blessed.box({ parent, hidden: true, tags: true, wrap: false });
  }

  show(tiles: readonly Tile[], rect: Rect): void {
    const { theme, glyphs } = this.look;
    const width = rect.width - 2;
    const column = Math.floor(width / Math.max(1, tiles.length));
    const scale = scaleFor(tiles, width, rect.height, this.look);
    const colour = (t: Tile) => (t.alarm ? theme.states.down : t.value > 0 ? theme.levels.ok : theme.muted);
    const captions = tiles
      .map(
        (t) =>
          `{bold}${paint(colour(t), escapeTags(fit(t.caption, column - 1, glyphs.ellipsis).padEnd(column)))}{/bold}`,
      )
      .join('');
    const big = tiles.map((t) => bigText(String(t.value), glyphs, scale));
    const digits = Array.from({ length: bigHeight(scale, glyphs) }, (_, r) =>
      tiles
        .map((t, i) => {
          const text = big[i]![r]!;
          return `{bold}${paint(colour(t), text)}{/bold}${' '.repeat(Math.max(0, column - text.length))}`;
        })
        .join(''),
    );
    this.box.setContent([captions, ...digits].map((line) => ` ${line}`).join('\n'));
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }
}
