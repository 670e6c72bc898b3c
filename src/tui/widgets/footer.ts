import blessed from 'blessed';
import { printable } from '../../core/printable.js';
import { keysLabel } from '../key-names.js';
import type { KeyBinding } from '../keymap.js';
import { fitWords } from '../render/format.js';
import type { Look } from '../render/look.js';
import { applyColours, escapeTags, paint } from '../render/paint.js';

export interface FooterInfo {
  /** Bindings of the context in front that carry a footer hint. */
  hints: readonly KeyBinding[];
  /** Those of `hints` the caller's role may not use: shown greyed out (pressing one says why). */
  off: ReadonlySet<KeyBinding>;
  /** The filter in force in the view. */
  filter: string;
  /** The `/` or `:` prompt while one is open, cursor included: the footer becomes the prompt. */
  prompt: string | undefined;
  /** What the last action did, until the next key. */
  notice: string | undefined;
  /** Why the filter may not do what it looks like (a broken regex). */
  filterProblem: string | undefined;
  /** The view's position, right-aligned: "page 2/5". */
  status: string;
  /** Always shown first while it holds: "read-only", "wall: migrations in 12s". */
  tag: string | undefined;
}

/** A binding as the footer hints at it (two keys at most: help lists them all): "v migrate". */
function hintText(b: KeyBinding): string {
  return `${keysLabel(b.keys.slice(0, 2))} ${b.hint}`;
}

/** The bottom line: key hints, the prompt being typed or the filter in force, notices, and the view's status. */
export class Footer {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = blessed.box({ parent, bottom: 0, left: 0, right: 0, height: 1, tags: true, wrap: false });
  }

  update(info: FooterInfo, width: number): void {
    const { sep } = this.look.glyphs;
    const { footer } = this.look.theme;
    applyColours(this.box, footer.fg, footer.bg, footer.inverse);
    const hints = info.hints.map(hintText).join('  ');
    const tag = info.tag ? ` [${info.tag}]` : '';
    const problem = info.filterProblem ? `${info.filterProblem}; ` : '';
    let left: string;
    if (info.prompt !== undefined) left = `${tag} ${info.prompt}  ${sep}  ${hints}`;
    else if (info.notice) left = `${tag} ${info.notice}  ${sep}  ${hints}`;
    else if (info.filter) left = `${tag} filter "${info.filter}" (${problem}Esc clears)  ${sep}  ${hints}`;
    else left = `${tag} ${hints}`;
    // Measured as drawn: a notice may quote an agent's error, control characters and all.
    const right = printable(info.status ? `${info.status} ` : '');
    const room = Math.max(0, width - right.length - 1);
    // Cut at a word with an ellipsis: a notice cut mid-word (or mid-number) reads as another one.
    // A prompt being typed is cut where the line ends: a word cut back would hide the cursor.
    const shown =
      info.prompt !== undefined
        ? [...printable(left)].slice(0, room).join('')
        : fitWords(left, room, this.look.glyphs.ellipsis);
    const gap = ' '.repeat(Math.max(1, width - [...shown].length - right.length));
    this.box.setContent(this.greyOut(escapeTags(`${shown}${gap}${right}`), info));
  }

  /** The hints of keys the role may not use, in the muted colour, where the line still shows them whole. */
  private greyOut(content: string, info: FooterInfo): string {
    let out = content;
    for (const b of info.hints) {
      if (!info.off.has(b)) continue;
      const text = escapeTags(hintText(b));
      const at = out.lastIndexOf(text);
      if (at >= 0) out = out.slice(0, at) + paint(this.look.theme.muted, text) + out.slice(at + text.length);
    }
    return out;
  }

  hide(): void {
    this.box.hide();
  }

  show(): void {
    this.box.show();
  }
}
