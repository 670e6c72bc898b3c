/** One character of a chart and which series drew it last (-1: blank). */
export interface PlotCell {
  ch: string;
  series: number;
}

// Braille cells are 2 dots wide and 4 tall: each (column, row) dot has its own bit.
const BRAILLE_BITS = [
  [0x01, 0x02, 0x04, 0x40],
  [0x08, 0x10, 0x20, 0x80],
];
/** ASCII charts mark series 0, 1, ... with these; legends use the same marks. */
export const ASCII_POINTS = ['*', '+', 'o', 'x'];

function scale(v: number, min: number, max: number, steps: number): number {
  const t = max > min ? (Math.min(Math.max(v, min), max) - min) / (max - min) : 0;
  return Math.round(t * (steps - 1));
}

/**
 * Plots the newest values of each series, newest on the right, into `rows` x `cols`
 * characters: braille (2x4 dots a cell, consecutive points joined) or one ASCII point a
 * column. Unknown values (NaN) leave gaps.
 */
export function plot(
  series: readonly (readonly number[])[],
  cols: number,
  rows: number,
  min: number,
  max: number,
  braille: boolean,
): PlotCell[][] {
  const grid: PlotCell[][] = Array.from({ length: rows }, () =>
    Array.from({ length: cols }, () => ({ ch: ' ', series: -1 })),
  );
  if (cols <= 0 || rows <= 0) return grid;
  const bits = braille ? grid.map((row) => row.map(() => 0)) : [];
  const dotsW = braille ? cols * 2 : cols;
  const dotsH = braille ? rows * 4 : rows;

  series.forEach((values, s) => {
    const shown = values.slice(-dotsW);
    const offset = dotsW - shown.length;
    let prev: number | undefined;
    shown.forEach((v, i) => {
      if (Number.isNaN(v)) {
        prev = undefined;
        return;
      }
      const y = dotsH - 1 - scale(v, min, max, dotsH);
      const x = offset + i;
      if (!braille) {
        grid[y]![x] = { ch: ASCII_POINTS[s % ASCII_POINTS.length]!, series: s };
        return;
      }
      const from = prev === undefined ? y : Math.min(prev, y);
      const to = prev === undefined ? y : Math.max(prev, y);
      for (let dy = from; dy <= to; dy++) {
        const row = Math.floor(dy / 4);
        const col = Math.floor(x / 2);
        bits[row]![col]! |= BRAILLE_BITS[x % 2]![dy % 4]!;
        grid[row]![col]!.series = s;
      }
      prev = y;
    });
  });

  if (braille) {
    for (const [r, row] of bits.entries()) {
      for (const [c, b] of row.entries()) if (b !== 0) grid[r]![c]!.ch = String.fromCharCode(0x2800 + b);
    }
  }
  return grid;
}
