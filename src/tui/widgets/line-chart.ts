import type blessed from 'blessed';
import type { Readings } from '../../core/ring.js';
import { padLeft } from '../render/format.js';
import { fitLegend, type LegendItem } from '../render/legend.js';
import type { Look } from '../render/look.js';
import { borderStyle, paint } from '../render/paint.js';
import { plot } from '../render/plot.js';
import { borderedBox, hide, labelText, place, type Rect } from './rect.js';

export interface ChartData {
  title: string;
  /** The line above the plot: current values, coloured like their series, fitted to the width. */
  legend: readonly LegendItem[];
  series: readonly Readings[];
  min: number;
  /** Top of the scale; left out, it is the largest value on screen. */
  max?: number;
  axisLabel: (value: number) => string;
}

/**
 * A titled line chart: braille dots (2 points a cell) on UTF-8 terminals, one ASCII point a
 * column elsewhere. Drawn as text, so the glyph fallback and NO_COLOR need nothing special.
 */
export class LineChart {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = borderedBox(parent);
  }

  show(rect: Rect, data: ChartData): void {
    this.box.setLabel(labelText(data.title, rect.width, this.look.glyphs.ellipsis));
    this.box.setContent(this.lines(rect.width - 2, rect.height - 2, data).join('\n'));
    this.box.style.border = borderStyle(this.look.theme.border);
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }

  private lines(width: number, height: number, data: ChartData): string[] {
    const { glyphs, theme } = this.look;
    const braille = glyphs.braille;
    const rows = height - 1;
    // The axis labels' width depends on the scale; reading a full width of points is enough.
    const values = data.series.map((s) => s.values(braille ? width * 2 : width));
    const max = data.max ?? Math.max(1, ...values.flat().filter((v) => !Number.isNaN(v)));
    const top = data.axisLabel(max);
    const bottom = data.axisLabel(data.min);
    const labelWidth = Math.max(top.length, bottom.length);
    const cols = Math.max(0, width - labelWidth - 1);
    const grid = plot(values, cols, rows, data.min, max, braille);
    const out = [` ${fitLegend(data.legend, width - 1)}`];
    grid.forEach((cells, r) => {
      const label = r === 0 ? top : r === rows - 1 ? bottom : '';
      const axis = label ? glyphs.axisTick : glyphs.axisLine;
      let line = paint(theme.muted, `${padLeft(label, labelWidth)}${axis}`);
      // Runs of cells from one series share one colour tag.
      let run = '';
      let runSeries = -1;
      const flush = (): void => {
        line += runSeries < 0 ? run : paint(theme.series[runSeries % theme.series.length]!, run);
        run = '';
      };
      for (const cell of cells) {
        if (cell.series !== runSeries) {
          flush();
          runSeries = cell.series;
        }
        run += cell.ch;
      }
      flush();
      out.push(line);
    });
    return out;
  }
}
