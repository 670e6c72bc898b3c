import blessed from 'blessed';
import { fit } from '../render/format.js';
import { escapeTags } from '../render/paint.js';

/** A widget's place inside its parent, in cells. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Moves and shows a pooled widget; the setters are no-ops when nothing changed. */
export function place(box: blessed.Widgets.BoxElement, rect: Rect): void {
  box.left = rect.left;
  box.top = rect.top;
  box.width = rect.width;
  box.height = rect.height;
  if (box.hidden) box.show();
}

/**
 * A border title cut to fit: blessed wraps a label wider than its box onto the first
 * content line.
 */
export function labelText(text: string, boxWidth: number, ellipsis: string): string {
  return ` ${escapeTags(fit(text, Math.max(1, boxWidth - 5), ellipsis).trimEnd())} `;
}

/**
 * Content lines with a one-column margin. Margins are drawn, not set as blessed padding:
 * with padding, every setLabel() after the first moves the title one column right.
 */
export function indent(lines: readonly string[]): string {
  return lines.map((line) => ` ${line}`).join('\n');
}

export function hide(box: blessed.Widgets.BoxElement): void {
  if (!box.hidden) box.hide();
}

/** The hidden, bordered box of tagged, unwrapped lines that cards, panes and tables draw in. */
export function borderedBox(parent: blessed.Widgets.Node): blessed.Widgets.BoxElement {
  return blessed.box({
    parent,
    hidden: true,
    tags: true,
    wrap: false,
    border: { type: 'line' },
    style: { border: {} },
  });
}
