import blessed from 'blessed';
import type { DiskSample } from '../../core/types.js';
import { bar, level } from '../render/bar.js';
import { bytesShort } from '../../core/format/bytes.js';
import { pctText } from '../../core/format/numbers.js';
import { fit, padLeft } from '../render/format.js';
import type { Look } from '../render/look.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { hide, indent, place, type Rect } from './rect.js';

const MAX_ROWS = 8;
/** "free", "size" and "used" (%) columns: free space is what an operator looks for. */
const FREE = 7;
const SIZE = 7;
const USED = 6;

/** Rows the table needs: border, header, one per disk (at most MAX_ROWS, then "+N more"). */
export function disksHeight(count: number): number {
  return 3 + Math.max(1, Math.min(count, MAX_ROWS + 1));
}

/** Mounted filesystems: mount, free space, size, used % and a bar where there is room. */
export class DisksTable {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = blessed.box({
      parent,
      hidden: true,
      tags: true,
      wrap: false,
      label: ' Disks ',
      border: { type: 'line' },
      style: { border: {} },
    });
  }

  show(rect: Rect, disks: readonly DiskSample[], stale: boolean): void {
    const { theme, glyphs } = this.look;
    const u = glyphs.unknown;
    const inner = rect.width - 4;
    // Where space is short the size goes before any figure is cut by the box edge.
    const sizeWidth = inner - FREE - USED - SIZE >= 4 ? SIZE : 0;
    const numbers = FREE + sizeWidth + USED;
    const barWidth = Math.min(20, Math.max(0, Math.floor((inner - numbers) / 3)));
    const mountWidth = Math.max(0, inner - numbers - (barWidth > 0 ? barWidth + 1 : 0));
    const size = (text: string) => (sizeWidth > 0 ? padLeft(text, sizeWidth) : '');
    const lines = [
      paint(
        theme.muted,
        `${fit('mount', mountWidth, glyphs.ellipsis)}${padLeft('free', FREE)}${size('size')}${padLeft('used', USED)}`,
      ),
    ];
    for (const disk of disks.slice(0, MAX_ROWS)) {
      const pct = disk.sizeBytes > 0 ? (disk.usedBytes / disk.sizeBytes) * 100 : undefined;
      const free = disk.sizeBytes > 0 ? Math.max(0, disk.sizeBytes - disk.usedBytes) : undefined;
      const parts = bar(pct, barWidth, glyphs);
      const barText =
        barWidth > 0 ? ` ${paint(theme.levels[level(pct)], parts.filled)}${paint(theme.muted, parts.empty)}` : '';
      const row = `${escapeTags(fit(disk.mount, mountWidth, glyphs.ellipsis))}${padLeft(bytesShort(free, u), FREE)}${size(bytesShort(disk.sizeBytes, u))}${padLeft(pctText(pct, u), USED)}`;
      lines.push(stale ? paint(theme.stale, row + barText) : row + barText);
    }
    if (disks.length > MAX_ROWS) lines.push(paint(theme.muted, `+${disks.length - MAX_ROWS} more`));
    if (disks.length === 0) lines.push(paint(theme.muted, 'no disks reported'));
    this.box.setContent(indent(lines));
    this.box.style.border = borderStyle(this.look.theme.border);
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }
}
