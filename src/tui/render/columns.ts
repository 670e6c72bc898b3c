import type { Colour } from '../theme.js';
import { fit, padLeft } from './format.js';
import { escapeTags, paint } from './paint.js';

/** One column of a table: how to draw a row's cell, and how much it matters when space is short. */
export interface Column<T> {
  readonly title: string;
  /** Columns wanted; a flex column also takes a share of what is left. */
  readonly width: number;
  /** Its weight in sharing what is left (columns without one keep their width). */
  readonly flex?: number;
  readonly align?: 'right';
  /** 1 is kept longest; the highest numbers are dropped first on a narrow terminal. */
  readonly priority: number;
  /** The cell as plain text (escaped and painted here). */
  cell(row: T): string;
  colour?(row: T): Colour;
}

export interface Fitted<T> {
  column: Column<T>;
  width: number;
}

const GAP = 1;

function needed(columns: readonly Column<unknown>[]): number {
  return columns.reduce((n, c) => n + c.width, 0) + GAP * Math.max(0, columns.length - 1);
}

/**
 * The columns that fit in `width`, in their order: the least important are dropped whole
 * (the rightmost first among equals) and flex columns share what is left.
 */
export function fitColumns<T>(columns: readonly Column<T>[], width: number): Fitted<T>[] {
  let kept = [...columns];
  while (kept.length > 1 && needed(kept) > width) {
    const worst = kept.reduce((w, c) => (c.priority >= w.priority ? c : w));
    kept = kept.filter((c) => c !== worst);
  }
  const weights = kept.reduce((n, c) => n + (c.flex ?? 0), 0);
  let spare = Math.max(0, width - needed(kept));
  let left = weights;
  // Shares by weight, rounded down, the last flex column taking what rounding left over.
  return kept.map((column) => {
    if (!column.flex) return { column, width: column.width };
    const extra = left === column.flex ? spare : Math.floor((spare * column.flex) / left);
    spare -= extra;
    left -= column.flex;
    return { column, width: column.width + extra };
  });
}

function cellText(text: string, width: number, right: boolean, ellipsis: string): string {
  const cut = fit(text, width, ellipsis);
  return right ? padLeft(cut.trimEnd(), width) : cut;
}

/** The header line, plain text. */
export function headerLine<T>(fitted: readonly Fitted<T>[], ellipsis: string): string {
  return fitted
    .map(({ column, width }) => cellText(column.title, width, column.align === 'right', ellipsis))
    .join(' '.repeat(GAP))
    .trimEnd();
}

/** One row, tagged: each cell escaped, cut to its width and painted in its colour. */
export function rowLine<T>(fitted: readonly Fitted<T>[], row: T, ellipsis: string): string {
  return fitted
    .map(({ column, width }) => {
      const text = escapeTags(cellText(column.cell(row), width, column.align === 'right', ellipsis));
      const colour = column.colour?.(row);
      return colour === undefined ? text : paint(colour, text);
    })
    .join(' '.repeat(GAP));
}
