import blessed from 'blessed';
import { formatAge } from '../../core/duration.js';
import type { Look } from '../render/look.js';
import { blessedStyle, escapeTags, paint } from '../render/paint.js';

export interface HeaderInfo {
  title: string;
  breadcrumb: string;
  controllerAddress: string;
  mode: 'embedded' | 'attached';
  online: number;
  total: number;
  gpus: number;
  workloadsRunning: number;
  workloadsTotal: number;
  /** Migrations not yet committed, rolled back or failed. */
  migrating: number;
  now: number;
  /** Set while an attached dashboard has lost its controller: since when. */
  disconnectedSince: number | undefined;
}

function clock(now: number): string {
  const d = new Date(now);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The top line: where we are, which controller, how much of the fleet is up, the time. */
export class Header {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(parent: blessed.Widgets.Node, private readonly look: Look) {
    const { header } = look.theme;
    this.box = blessed.box({ parent, top: 0, left: 0, right: 0, height: 1, tags: true, wrap: false, style: blessedStyle(header.fg, header.bg, header.inverse) });
  }

  update(info: HeaderInfo, width: number): void {
    const { glyphs, theme } = this.look;
    const time = clock(info.now);
    const warning = info.disconnectedSince === undefined ? undefined : `CONTROLLER UNREACHABLE ${formatAge(info.now - info.disconnectedSince)}`;
    // In display order, each with a rank: on a narrow terminal the lowest ranks are dropped
    // whole rather than cutting the line mid-word.
    const parts: { text: string; rank: number; warn?: boolean }[] = [
      { text: info.title, rank: 5 },
      { text: info.breadcrumb, rank: 2 },
      ...(warning ? [{ text: warning, rank: 0, warn: true }] : []),
      { text: `${info.controllerAddress} (${info.mode})`, rank: 1 },
      { text: `${info.online}/${info.total} online`, rank: 1 },
      { text: `${info.gpus} GPUs`, rank: 3 },
      { text: `${info.workloadsRunning}/${info.workloadsTotal} workloads running`, rank: 4 },
      ...(info.migrating > 0 ? [{ text: `${info.migrating} migrating`, rank: 2 }] : []),
    ];
    const sep = ` ${glyphs.axisLine} `;
    const room = width - time.length - 3;
    const kept = new Set<(typeof parts)[number]>();
    let used = 0;
    for (const part of [...parts].sort((a, b) => a.rank - b.rank)) {
      const length = [...part.text].length + (kept.size > 0 ? sep.length : 0);
      if (used + length > room) continue;
      kept.add(part);
      used += length;
    }
    const shown = parts.filter((p) => kept.has(p));
    const line = shown.map((p) => (p.warn ? `{bold}${paint(theme.states.down, escapeTags(p.text))}{/bold}` : escapeTags(p.text))).join(sep);
    this.box.setContent(` ${line}${' '.repeat(Math.max(1, width - used - time.length - 2))}${time} `);
  }

  hide(): void {
    this.box.hide();
  }

  show(): void {
    this.box.show();
  }
}
