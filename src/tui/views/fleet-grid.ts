/** Cards narrower than this lose their sparklines: 80 columns hold one, 160 three, 200 four. */
const MIN_CARD_WIDTH = 50;

export function columnsFor(width: number): number {
  return Math.max(1, Math.floor(width / MIN_CARD_WIDTH));
}

export interface GridRow {
  /** Index of the first card in the row, and one past the last. */
  first: number;
  end: number;
  top: number;
  height: number;
}

export interface GridPage {
  first: number;
  end: number;
  rows: GridRow[];
}

/**
 * Splits cards into rows of `columns` (a row is as tall as its tallest card) and rows into
 * pages of `height` cells. Cheap enough to run every frame for thousands of cards.
 */
export function paginate(heights: readonly number[], columns: number, height: number): GridPage[] {
  const pages: GridPage[] = [];
  let page: GridPage = { first: 0, end: 0, rows: [] };
  let top = 0;
  for (let first = 0; first < heights.length; first += columns) {
    const end = Math.min(first + columns, heights.length);
    let rowHeight = 0;
    for (let i = first; i < end; i++) rowHeight = Math.max(rowHeight, heights[i]!);
    rowHeight = Math.min(rowHeight, height);
    if (top + rowHeight > height && page.rows.length > 0) {
      pages.push(page);
      page = { first, end: first, rows: [] };
      top = 0;
    }
    page.rows.push({ first, end, top, height: rowHeight });
    page.end = end;
    top += rowHeight;
  }
  pages.push(page);
  return pages;
}

/** The page holding card `index` (binary search: pages are in order). */
export function pageOf(pages: readonly GridPage[], index: number): number {
  let lo = 0;
  let hi = pages.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pages[mid]!.first <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Services the Fleet view's route pane lists before it says how many more there are. */
const ROUTE_PANE_MOST = 4;
/** Rows the grid keeps for cards when the route pane shows: two rows of small cards. */
const GRID_KEEPS_ROWS = 14;

/** Rows of the route pane under the cards (border included): none without routes or room. */
export function routePaneHeight(routes: number, height: number): number {
  if (routes === 0) return 0;
  const rows = Math.min(routes, ROUTE_PANE_MOST) + 2;
  return height - rows >= GRID_KEEPS_ROWS ? rows : 0;
}

/**
 * A wall's grid: the columns and card height that put every card on one page with the least
 * room left empty and cards closest to the proportions of a screen (a cell is about twice as
 * tall as wide); when they cannot all fit, the most columns of the smallest cards, paged.
 */
export function wallGrid(
  cards: number,
  width: number,
  height: number,
  minWidth: number,
  minHeight: number,
): { columns: number; cardHeight: number } {
  const most = Math.max(1, Math.floor(width / minWidth));
  let best: { columns: number; cardHeight: number; empty: number; shape: number } | undefined;
  for (let columns = 1; columns <= most; columns++) {
    const rows = Math.ceil(Math.max(1, cards) / columns);
    const cardHeight = Math.floor(height / rows);
    if (cardHeight < minHeight) continue;
    const empty = rows * columns - cards;
    const shape = Math.min(Math.floor(width / columns), 3 * cardHeight);
    if (!best || empty < best.empty || (empty === best.empty && shape > best.shape))
      best = { columns, cardHeight, empty, shape };
  }
  return best ?? { columns: most, cardHeight: minHeight };
}
