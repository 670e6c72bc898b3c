import type blessed from 'blessed';
import type { Look } from '../render/look.js';
import { borderStyle } from '../render/paint.js';
import { borderedBox, hide, indent, labelText, place, type Rect } from './rect.js';

/**
 * A bordered box of tagged lines with a title: details panes, the wizard's modal, questions.
 * `front` keeps it above widgets created after it (views grow their widget pools lazily).
 */
export class TextBox {
  private readonly box: blessed.Widgets.BoxElement;
  private label = '';

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
    private readonly front = false,
  ) {
    this.box = borderedBox(parent);
  }

  show(rect: Rect, title: string, lines: readonly string[]): void {
    const label = labelText(title, rect.width, this.look.glyphs.ellipsis);
    if (label !== this.label) {
      this.box.setLabel(this.front ? `{bold}${label}{/bold}` : label);
      this.label = label;
    }
    this.box.style.border = borderStyle(this.front ? this.look.theme.selected : this.look.theme.border, {
      bold: this.front,
    });
    this.box.setContent(indent(lines.slice(0, Math.max(0, rect.height - 2))));
    place(this.box, rect);
    if (this.front) this.box.setFront();
  }

  hide(): void {
    hide(this.box);
  }
}
