import blessed from 'blessed';
import type { KeyBinding } from '../keymap.js';
import type { Look } from '../render/look.js';
import { blessedStyle, escapeTags } from '../render/paint.js';

export interface FooterInfo {
  /** Bindings of the context in front that carry a footer hint. */
  hints: readonly KeyBinding[];
  /** The filter in force in the view. */
  filter: string;
  /** The `/` or `:` prompt while one is open, cursor included: the footer becomes the prompt. */
  prompt: string | undefined;
  /** What the last action did, until the next key. */
  notice: string | undefined;
  /** The view's position, right-aligned: "page 2/5". */
  status: string;
}

/** The bottom line: key hints, the prompt being typed or the filter in force, notices, and the view's status. */
export class Footer {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(parent: blessed.Widgets.Node, private readonly look: Look) {
    const { footer } = look.theme;
    this.box = blessed.box({ parent, bottom: 0, left: 0, right: 0, height: 1, tags: true, wrap: false, style: blessedStyle(footer.fg, footer.bg, footer.inverse) });
  }

  update(info: FooterInfo, width: number): void {
    const { sep } = this.look.glyphs;
    const hints = info.hints.map((b) => `${b.label} ${b.hint}`).join('  ');
    let left: string;
    if (info.prompt !== undefined) left = ` ${info.prompt}  ${sep}  ${hints}`;
    else if (info.notice) left = ` ${info.notice}  ${sep}  ${hints}`;
    else if (info.filter) left = ` filter "${info.filter}" (Esc clears)  ${sep}  ${hints}`;
    else left = ` ${hints}`;
    const right = info.status ? `${info.status} ` : '';
    const room = Math.max(0, width - right.length - 1);
    const shown = [...left].slice(0, room).join('');
    const gap = ' '.repeat(Math.max(1, width - shown.length - right.length));
    this.box.setContent(escapeTags(`${shown}${gap}${right}`));
  }

  hide(): void {
    this.box.hide();
  }

  show(): void {
    this.box.show();
  }
}
