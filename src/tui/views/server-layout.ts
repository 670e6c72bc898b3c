import type { Rect } from '../widgets/rect.js';

/** Charts shorter than this show too few rows to read a trend. */
const MIN_CHART_HEIGHT = 7;
const MIN_COLUMN_WIDTH = 40;
const MAX_COLUMNS = 4;

/** A pane's wanted height: a number of rows, or 'flex' for charts that take what is left. */
export type PaneHeight = number | 'flex';

export interface Placement {
  /** Index into the panes given to layoutPanes. */
  pane: number;
  rect: Rect;
}

function columnsFor(width: number): number {
  return Math.min(MAX_COLUMNS, Math.max(1, Math.floor(width / MIN_COLUMN_WIDTH)));
}

/** The width of a pane column, for panes whose height depends on their width. */
export function paneWidth(width: number): number {
  return Math.floor(width / columnsFor(width));
}

function pack(
  heights: readonly PaneHeight[],
  width: number,
  height: number,
  columns: number,
  flex: number,
): Placement[][] {
  const columnWidth = Math.floor(width / columns);
  const pages: Placement[][] = [[]];
  let column = 0;
  let top = 0;
  heights.forEach((wanted, pane) => {
    const h = Math.min(wanted === 'flex' ? flex : wanted, height);
    if (top + h > height) {
      column++;
      top = 0;
      if (column === columns) {
        pages.push([]);
        column = 0;
      }
    }
    const left = column * columnWidth;
    const w = column === columns - 1 ? width - left : columnWidth;
    pages[pages.length - 1]!.push({ pane, rect: { left, top, width: w, height: h } });
    top += h;
  });
  return pages;
}

/**
 * Lays panes out top to bottom in columns, in priority order, onto as few pages as
 * possible. Charts get the tallest height that still fits everything on one page (so a
 * 200x60 terminal shows big charts), but never less than MIN_CHART_HEIGHT: on a small
 * terminal the panes that do not fit go to the next pages instead of being squashed.
 */
export function layoutPanes(heights: readonly PaneHeight[], width: number, height: number): Placement[][] {
  const columns = columnsFor(width);
  const tallest = Math.max(MIN_CHART_HEIGHT, Math.floor(height / 2));
  for (let flex = tallest; flex > MIN_CHART_HEIGHT; flex--) {
    const pages = pack(heights, width, height, columns, flex);
    if (pages.length === 1) return pages;
  }
  return pack(heights, width, height, columns, MIN_CHART_HEIGHT);
}
