import type blessed from 'blessed';
import { bar, level } from '../render/bar.js';
import { pctText } from '../../core/format/numbers.js';
import { padLeft } from '../render/format.js';
import type { Look } from '../render/look.js';
import { borderStyle, paint } from '../render/paint.js';
import { sparkline } from '../render/sparkline.js';
import { borderedBox, hide, indent, labelText, place, type Rect } from './rect.js';

/** The bar of one entry, "12 ██████░░  45%", where there is room for it. */
const BAR = 8;
/** "100%" right-aligned. */
const PCT = 5;
/** Past this many rows of bars, cores are drawn one glyph each (a 128-core host fits). */
const MAX_BAR_ROWS = 12;

/** Columns of a core's index: "7", "63" and "127" line up, and core 127 is never cut to "12". */
function indexWidth(cores: number): number {
  return Math.max(2, String(Math.max(0, cores - 1)).length);
}

/** An entry's bar: eight cells, fewer on a narrow box, so the percentage always fits whole. */
function barWidth(cores: number, inner: number): number {
  return Math.max(0, Math.min(BAR, inner - indexWidth(cores) - 1 - PCT));
}

/** Entries a row holds, two spaces apart. */
function perRow(cores: number, inner: number): number {
  const entry = indexWidth(cores) + 1 + barWidth(cores, inner) + PCT;
  return Math.max(1, Math.floor((inner + 2) / (entry + 2)));
}

function compact(cores: number, inner: number): boolean {
  return Math.ceil(cores / perRow(cores, inner)) > MAX_BAR_ROWS;
}

/** Rows of glyphs in compact mode: each row starts with the index of its first core. */
function glyphsPerRow(inner: number): number {
  return Math.max(1, inner - 4);
}

export function coresHeight(cores: number, width: number): number {
  const inner = width - 4;
  const rows = compact(cores, inner) ? Math.ceil(cores / glyphsPerRow(inner)) : Math.ceil(cores / perRow(cores, inner));
  return 2 + Math.max(1, rows);
}

/** Per-core CPU use: a small bar per core, or one level glyph per core on big hosts. */
export class CoreBars {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = borderedBox(parent);
  }

  show(rect: Rect, cores: readonly number[], stale: boolean): void {
    const inner = rect.width - 4;
    this.box.setLabel(labelText(`CPU cores (${cores.length})`, rect.width, this.look.glyphs.ellipsis));
    const lines =
      cores.length === 0
        ? [paint(this.look.theme.muted, 'no per-core readings')]
        : compact(cores.length, inner)
          ? this.glyphRows(cores, inner)
          : this.barRows(cores, inner);
    this.box.setContent(indent(stale ? lines.map((l) => paint(this.look.theme.stale, l)) : lines));
    this.box.style.border = borderStyle(this.look.theme.border);
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }

  private barRows(cores: readonly number[], inner: number): string[] {
    const { theme, glyphs } = this.look;
    const n = perRow(cores.length, inner);
    const index = indexWidth(cores.length);
    const width = barWidth(cores.length, inner);
    const lines: string[] = [];
    for (let start = 0; start < cores.length; start += n) {
      const entries = cores.slice(start, start + n).map((pct, i) => {
        const parts = bar(pct, width, glyphs);
        return `${padLeft(String(start + i), index)} ${paint(theme.levels[level(pct)], parts.filled)}${paint(theme.muted, parts.empty)}${padLeft(pctText(pct, glyphs.unknown), PCT)}`;
      });
      lines.push(entries.join('  '));
    }
    return lines;
  }

  private glyphRows(cores: readonly number[], inner: number): string[] {
    const n = glyphsPerRow(inner);
    const lines: string[] = [];
    for (let start = 0; start < cores.length; start += n) {
      const row = cores.slice(start, start + n);
      lines.push(
        `${padLeft(String(start), 3)} ${paint(this.look.theme.series[0]!, sparkline(row, row.length, this.look.glyphs, 100))}`,
      );
    }
    return lines;
  }
}
