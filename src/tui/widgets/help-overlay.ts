import blessed from 'blessed';
import { commandUsage, type Command } from '../commands.js';
import { whereText, type KeyBinding } from '../keymap.js';
import type { Look } from '../render/look.js';
import type { Colour } from '../theme.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import type { Part } from '../scheduler.js';
import type { ViewEntry } from '../views/index.js';

const WHERE = 18;
const KEYS = 12;
/** Border and padding of the overlay. */
const CHROME = 4;

/**
 * `lead` then `text` wrapped into what is left of `width`, later lines lined up under the first;
 * `colour` paints the text (greyed out: the caller's role may not use it).
 */
function entry(lead: string, leadWidth: number, text: string, width: number, colour: Colour = 'none'): string[] {
  const lines = wrapText(text, Math.max(20, width - leadWidth));
  return lines.map((line, i) => `${i === 0 ? lead : ' '.repeat(leadWidth)}${paint(colour, escapeTags(line))}`);
}

/** A description, and the role it needs when the caller's may not use it. */
function described(description: string, needs: string | undefined): string {
  return needs === undefined ? description : `${description} (${needs})`;
}

/** What help lists: the bindings and commands in force (a read-only dashboard leaves some out). */
export interface HelpContent {
  keymap: readonly KeyBinding[];
  views: Readonly<Record<string, ViewEntry>>;
  commands: readonly Command[];
  /** A line above the keys: why some are missing, or greyed out. */
  note?: string;
  /** Keys and commands the caller's role may not use: listed greyed out, with the role they need. */
  off?: (action: { mutates?: true }) => string | undefined;
}

/**
 * Help text generated from the keymap in force, the view registry and the command table:
 * nothing here is written by hand. Descriptions wrap to `width`; a long "where" gets a line
 * of its own.
 */
export function helpLines({ keymap, views, commands, note, off }: HelpContent, look: Look, width = 200): string[] {
  const { muted } = look.theme;
  const lines = note ? [...wrapText(note, Math.max(20, width)).map((l) => `{bold}${escapeTags(l)}{/bold}`), ''] : [];
  lines.push(paint(muted, `${'where'.padEnd(WHERE)}${'keys'.padEnd(KEYS)}what`));
  for (const binding of keymap) {
    const where = whereText(binding);
    const needs = off?.(binding);
    const label = escapeTags(binding.label.padEnd(KEYS));
    const keys = needs === undefined ? `{bold}${label}{/bold}` : paint(muted, label);
    if (where.length >= WHERE) lines.push(paint(muted, escapeTags(where)));
    const lead = `${paint(muted, escapeTags((where.length >= WHERE ? '' : where).padEnd(WHERE)))}${keys}`;
    const colour = needs === undefined ? 'none' : muted;
    lines.push(...entry(lead, WHERE + KEYS, described(binding.description, needs), width, colour));
  }
  lines.push('', paint(muted, 'views'));
  for (const [name, view] of Object.entries(views))
    lines.push(...entry(name.padEnd(WHERE), WHERE, view.description, width));
  if (commands.length > 0) lines.push('', paint(muted, 'commands (: then Tab completes, Up recalls)'));
  for (const command of commands) {
    const needs = off?.(command);
    const lead = escapeTags(commandUsage(command).padEnd(WHERE + KEYS));
    const colour = needs === undefined ? 'none' : muted;
    lines.push(...entry(paint(colour, lead), WHERE + KEYS, described(command.description, needs), width, colour));
  }
  return lines;
}

/** The `?` overlay over the view area; scrolls when the keymap is longer than the screen. */
export class HelpOverlay implements Part {
  private readonly box: blessed.Widgets.BoxElement;
  /** What the text was made for: the width and the theme (`:theme` changes its colours). */
  private madeFor = '';

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
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
      style: { border: {} },
    });
  }

  get visible(): boolean {
    return !this.box.hidden;
  }

  /** Re-wraps the text when the width or the theme changed (on open, on resize, on :theme). */
  update(): void {
    const width = Number(this.box.width) - CHROME;
    const { theme } = this.look;
    const madeFor = `${width} ${theme.name}`;
    if (this.box.hidden || madeFor === this.madeFor) return;
    this.madeFor = madeFor;
    this.box.style.border = borderStyle(theme.selected, { bold: theme.selected === 'none' });
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

  /** Made again at the next update: what it lists changed (the caller's role became known). */
  refresh(): void {
    this.madeFor = '';
    this.update();
  }

  scroll(lines: number): void {
    this.box.scroll(lines);
  }

  /** Scrolls by `pages` screenfuls. */
  page(pages: number): void {
    this.box.scroll(pages * Math.max(1, Number(this.box.height) - 2));
  }
}
