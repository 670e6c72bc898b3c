import blessed from 'blessed';
import { commandTable, commandUsage } from '../commands.js';
import { whereText, type KeyBinding } from '../keymap.js';
import type { Look } from '../render/look.js';
import { escapeTags, paint } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import type { Part } from '../scheduler.js';
import type { ViewEntry } from '../views/index.js';

const WHERE = 18;
const KEYS = 12;
/** Border and padding of the overlay. */
const CHROME = 4;

/** `lead` then `text` wrapped into what is left of `width`, later lines lined up under the first. */
function entry(lead: string, leadWidth: number, text: string, width: number): string[] {
  const lines = wrapText(text, Math.max(20, width - leadWidth));
  return lines.map((line, i) => `${i === 0 ? lead : ' '.repeat(leadWidth)}${escapeTags(line)}`);
}

/**
 * Help text generated from the keymap, the view registry and the command table: nothing here
 * is written by hand. Descriptions wrap to `width`; a long "where" gets a line of its own.
 */
export function helpLines(keymap: readonly KeyBinding[], views: Readonly<Record<string, ViewEntry>>, look: Look, width = 200): string[] {
  const { muted } = look.theme;
  const lines = [paint(muted, `${'where'.padEnd(WHERE)}${'keys'.padEnd(KEYS)}what`)];
  for (const binding of keymap) {
    const where = whereText(binding);
    const keys = `{bold}${escapeTags(binding.label.padEnd(KEYS))}{/bold}`;
    if (where.length >= WHERE) lines.push(paint(muted, escapeTags(where)));
    const lead = `${paint(muted, escapeTags((where.length >= WHERE ? '' : where).padEnd(WHERE)))}${keys}`;
    lines.push(...entry(lead, WHERE + KEYS, binding.description, width));
  }
  lines.push('', paint(muted, 'views'));
  for (const [name, view] of Object.entries(views)) lines.push(...entry(name.padEnd(WHERE), WHERE, view.description, width));
  lines.push('', paint(muted, 'commands (: then Tab completes)'));
  for (const command of commandTable(views)) {
    lines.push(...entry(escapeTags(commandUsage(command).padEnd(WHERE + KEYS)), WHERE + KEYS, command.description, width));
  }
  return lines;
}

/** The `?` overlay over the view area; scrolls when the keymap is longer than the screen. */
export class HelpOverlay implements Part {
  private readonly box: blessed.Widgets.BoxElement;
  private width = 0;

  constructor(
    parent: blessed.Widgets.Node,
    look: Look,
    private readonly lines: (width: number) => readonly string[],
  ) {
    this.box = blessed.box({
      parent,
      hidden: true,
      top: 1,
      bottom: 1,
      left: 0,
      right: 0,
      label: ' Help: keys, views and commands ',
      tags: true,
      wrap: false,
      scrollable: true,
      alwaysScroll: true,
      border: { type: 'line' },
      padding: { left: 1, right: 1 },
      style: look.theme.selected === 'none' ? { border: { bold: true } } : { border: { fg: look.theme.selected } },
    });
  }

  get visible(): boolean {
    return !this.box.hidden;
  }

  /** Re-wraps the text when the width changed (on open and on resize). */
  update(): void {
    const width = Number(this.box.width) - CHROME;
    if (this.box.hidden || width === this.width) return;
    this.width = width;
    this.box.setContent(this.lines(width).join('\n'));
  }

  toggle(): void {
    if (this.box.hidden) {
      this.box.setScroll(0);
      this.box.show();
      this.box.setFront();
      this.update();
    } else {
      this.box.hide();
    }
  }

  scroll(lines: number): void {
    this.box.scroll(lines);
  }

  /** Scrolls by `pages` screenfuls. */
  page(pages: number): void {
    this.box.scroll(pages * Math.max(1, Number(this.box.height) - 2));
  }
}
