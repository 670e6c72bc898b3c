import blessed from 'blessed';
import type { DiskSample } from '../../core/types.js';
import { bar, level } from '../render/bar.js';
import { fit, formatBytes, formatPct, padLeft } from '../render/format.js';
import type { Look } from '../render/look.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { hide, indent, place, type Rect } from './rect.js';

const MAX_ROWS = 8;
/** "used/size" and "use%" columns. */
const NUMBERS = 11 + 6;

/** Rows the table needs: border, header, one per disk (at most MAX_ROWS, then "+N more"). */
export function disksHeight(count: number): number {
  return 3 + Math.max(1, Math.min(count, MAX_ROWS + 1));
}

/** Mounted filesystems: mount, used/size, use % and a bar where there is room. */
export class DisksTable {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(parent: blessed.Widgets.Node, private readonly look: Look) {
    this.box = blessed.box({ parent, hidden: true, tags: true, wrap: false, label: ' Disks ', border: { type: 'line' }, style: { border: {} } });
  }

  show(rect: Rect, disks: readonly DiskSample[], stale: boolean): void {
    const { theme, glyphs } = this.look;
    const inner = rect.width - 4;
    const barWidth = Math.min(20, Math.max(0, Math.floor((inner - NUMBERS) / 3)));
    const mountWidth = inner - NUMBERS - (barWidth > 0 ? barWidth + 1 : 0);
    const lines = [paint(theme.muted, `${fit('mount', mountWidth, glyphs.ellipsis)}${padLeft('used/size', 11)}${padLeft('use', 6)}`)];
    for (const disk of disks.slice(0, MAX_ROWS)) {
      const pct = disk.sizeBytes > 0 ? (disk.usedBytes / disk.sizeBytes) * 100 : undefined;
      const sizes = `${formatBytes(disk.usedBytes, glyphs.unknown)}/${formatBytes(disk.sizeBytes, glyphs.unknown)}`;
      const parts = bar(pct, barWidth, glyphs);
      const barText = barWidth > 0 ? ` ${paint(theme.levels[level(pct)], parts.filled)}${paint(theme.muted, parts.empty)}` : '';
      const row = `${escapeTags(fit(disk.mount, mountWidth, glyphs.ellipsis))}${padLeft(sizes, 11)}${padLeft(formatPct(pct, glyphs.unknown), 6)}`;
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
