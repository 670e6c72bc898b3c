import type blessed from 'blessed';
import type { Column } from '../render/columns.js';
import { fitColumns, headerLine, rowLine } from '../render/columns.js';
import type { Look } from '../render/look.js';
import { borderStyle, paint } from '../render/paint.js';
import { borderedBox, hide, labelText, place, type Rect } from './rect.js';

export interface TableData<T> {
  label: string;
  columns: readonly Column<T>[];
  rows: readonly T[];
  /** Index of the selected row; -1 for none. */
  selected: number;
  /** A table without focus shows no selection and a plain border. */
  focused: boolean;
  /** Shown instead of rows when there are none. */
  empty: string;
}

/** Rows needed for `count` rows of data: border and header, at least one line. */
export function tableHeight(count: number, most: number): number {
  return 3 + Math.max(1, Math.min(count, most));
}

/**
 * A bordered table with a header line and a selected row, scrolled so the selection stays
 * in sight. Only the rows on screen are drawn.
 */
export class Table<T> {
  private readonly box: blessed.Widgets.BoxElement;
  private offset = 0;
  private label = '';

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = borderedBox(parent);
  }

  show(rect: Rect, data: TableData<T>): void {
    const { theme, glyphs } = this.look;
    const marker = glyphs.selected.length + 1;
    const fitted = fitColumns(data.columns, rect.width - 4 - marker);
    const visible = Math.max(1, rect.height - 3);
    this.scrollTo(data.selected, visible, data.rows.length);
    const lines = [paint(theme.muted, `${' '.repeat(marker)}${headerLine(fitted, glyphs.ellipsis)}`)];
    data.rows.slice(this.offset, this.offset + visible).forEach((row, i) => {
      const selected = data.focused && this.offset + i === data.selected;
      const text = rowLine(fitted, row, glyphs.ellipsis);
      lines.push(selected ? `{inverse}${glyphs.selected} ${text}{/inverse}` : `${' '.repeat(marker)}${text}`);
    });
    if (data.rows.length === 0) lines.push(paint(theme.muted, data.empty));
    this.box.setContent(lines.map((line) => ` ${line}`).join('\n'));
    this.setLabel(labelText(data.label, rect.width, glyphs.ellipsis), data.focused);
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }

  private scrollTo(selected: number, visible: number, count: number): void {
    if (selected >= 0 && selected < this.offset) this.offset = selected;
    if (selected >= this.offset + visible) this.offset = selected - visible + 1;
    this.offset = Math.max(0, Math.min(this.offset, count - visible));
  }

  private setLabel(text: string, focused: boolean): void {
    const { theme } = this.look;
    const label = focused ? `{bold}${text}{/bold}` : text;
    if (label !== this.label) {
      this.box.setLabel(label);
      this.label = label;
    }
    const border = focused ? theme.selected : theme.border;
    this.box.style.border = borderStyle(border, { bold: focused });
  }
}
