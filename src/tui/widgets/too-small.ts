import blessed from 'blessed';
import type { Look } from '../render/look.js';

/** Shown instead of a broken layout when the terminal is below the minimum size. */
export class TooSmall {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = blessed.box({
      parent,
      hidden: true,
      top: 0,
      left: 0,
      width: '100%',
      height: '100%',
      align: 'center',
      valign: 'middle',
      wrap: true,
    });
  }

  show(need: { cols: number; rows: number }, have: { cols: number; rows: number }): void {
    const { dash } = this.look.glyphs;
    this.box.setContent(`terminal too small ${dash} need ${need.cols}x${need.rows}\n(now ${have.cols}x${have.rows})`);
    this.box.show();
  }

  hide(): void {
    this.box.hide();
  }
}
