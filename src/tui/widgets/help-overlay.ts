import blessed from 'blessed';
import type { KeyBinding } from '../keymap.js';
import type { Look } from '../render/look.js';
import { escapeTags, paint } from '../render/paint.js';
import type { ViewEntry } from '../views/index.js';

const WHERE = 18;
const KEYS = 12;

/** Help text generated from the keymap and the view registry: nothing here is written by hand. */
export function helpLines(keymap: readonly KeyBinding[], views: Readonly<Record<string, ViewEntry>>, look: Look): string[] {
  const { muted } = look.theme;
  const lines = [paint(muted, `${'where'.padEnd(WHERE)}${'keys'.padEnd(KEYS)}what`)];
  for (const binding of keymap) {
    lines.push(`${paint(muted, binding.when.join(', ').padEnd(WHERE))}{bold}${escapeTags(binding.label.padEnd(KEYS))}{/bold}${escapeTags(binding.description)}`);
  }
  lines.push('', paint(muted, 'views'));
  for (const [name, view] of Object.entries(views)) lines.push(`${name.padEnd(WHERE)}${escapeTags(view.description)}`);
  return lines;
}

/** The `?` overlay over the view area; scrolls when the keymap is longer than the screen. */
export class HelpOverlay {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(parent: blessed.Widgets.Node, look: Look, lines: readonly string[]) {
    this.box = blessed.box({
      parent,
      hidden: true,
      top: 1,
      bottom: 1,
      left: 0,
      right: 0,
      label: ' Help: keys and views ',
      tags: true,
      wrap: false,
      scrollable: true,
      alwaysScroll: true,
      border: { type: 'line' },
      padding: { left: 1, right: 1 },
      content: lines.join('\n'),
      style: look.theme.selected === 'none' ? { border: { bold: true } } : { border: { fg: look.theme.selected } },
    });
  }

  get visible(): boolean {
    return !this.box.hidden;
  }

  toggle(): void {
    if (this.box.hidden) {
      this.box.setScroll(0);
      this.box.show();
      this.box.setFront();
    } else {
      this.box.hide();
    }
  }

  scroll(lines: number): void {
    this.box.scroll(lines);
  }
}
