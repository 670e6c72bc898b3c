import type { Look } from '../render/look.js';
import { paint } from '../render/paint.js';

/**
 * A list to choose one item from, where some items may be shown but not chosen: moving skips
 * them, and the list never selects one.
 */
export class ChoiceList<T> {
  private items: readonly T[] = [];
  private index = -1;

  constructor(private readonly enabled: (item: T) => boolean = () => true) {}

  /** Replaces the items and selects `preferred` if it can be chosen, else the first that can. */
  set(items: readonly T[], preferred?: (item: T) => boolean): void {
    this.items = items;
    const wanted = preferred ? items.findIndex((item) => preferred(item) && this.enabled(item)) : -1;
    this.index = wanted >= 0 ? wanted : items.findIndex(this.enabled);
  }

  get size(): number {
    return this.items.length;
  }

  selected(): T | undefined {
    return this.index >= 0 ? this.items[this.index] : undefined;
  }

  /** One step per `delta` to the next item that can be chosen; stays put at either end. */
  move(delta: number): void {
    for (let step = 0; step < Math.abs(delta); step++) {
      for (let i = this.index + Math.sign(delta); i >= 0 && i < this.items.length; i += Math.sign(delta)) {
        if (this.enabled(this.items[i]!)) {
          this.index = i;
          break;
        }
      }
    }
  }

  /** At most `rows` lines around the selection: the marker, then `render`'s text. */
  lines(rows: number, look: Look, render: (item: T, chosen: boolean) => string): string[] {
    const { glyphs, theme } = look;
    const start = Math.max(0, Math.min(this.index - Math.floor(rows / 2), this.items.length - rows));
    return this.items.slice(start, start + Math.max(0, rows)).map((item, i) => {
      const chosen = start + i === this.index;
      const text = render(item, chosen);
      if (chosen) return `{inverse}${glyphs.selected} ${text}{/inverse}`;
      return this.enabled(item)
        ? `${' '.repeat(glyphs.selected.length + 1)}${text}`
        : paint(theme.muted, `${' '.repeat(glyphs.selected.length + 1)}${text}`);
    });
  }
}
