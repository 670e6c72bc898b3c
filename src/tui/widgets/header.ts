import blessed from 'blessed';
import type { Look } from '../render/look.js';
import { printable } from '../../core/printable.js';
import { applyColours, escapeTags } from '../render/paint.js';

export interface HeaderInfo {
  title: string;
  breadcrumb: string;
  controllerAddress: string;
  mode: 'embedded' | 'attached';
  /** "read-only" or "wall" when the dashboard takes no actions; undefined otherwise. */
  restriction: string | undefined;
  /** Servers heard from lately; undefined while the controller is unreachable (then none is known online). */
  online: number | undefined;
  total: number;
  gpus: number;
  workloadsRunning: number;
  workloadsTotal: number;
  /** Migrations not yet committed, rolled back or failed. */
  migrating: number;
  now: number;
}

/** "14:03:22", local time: the clock in the header and the banner. */
export function clock(now: number): string {
  const d = new Date(now);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** The top line: where we are, which controller and how we reach it, how much of the fleet is up, the time. */
export class Header {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = blessed.box({ parent, top: 0, left: 0, right: 0, height: 1, tags: true, wrap: false });
  }

  update(info: HeaderInfo, width: number): void {
    const { glyphs, theme } = this.look;
    applyColours(this.box, theme.header.fg, theme.header.bg, theme.header.inverse);
    const time = clock(info.now);
    const how = [info.mode, info.restriction].filter((w) => w !== undefined).join(', ');
    // In display order, each with a rank: on a narrow terminal the lowest ranks are dropped
    // whole rather than cutting the line mid-word.
    const parts: { text: string; rank: number }[] = [
      { text: info.title, rank: 5 },
      { text: info.breadcrumb, rank: 2 },
      { text: `${info.controllerAddress} (${how})`, rank: 1 },
      {
        text:
          info.online === undefined
            ? `${info.total} server${info.total === 1 ? '' : 's'}, none known online`
            : `${info.online}/${info.total} online`,
        rank: 1,
      },
      { text: `${info.gpus} GPUs`, rank: 3 },
      { text: `${info.workloadsRunning}/${info.workloadsTotal} workloads running`, rank: 4 },
      ...(info.migrating > 0 ? [{ text: `${info.migrating} migrating`, rank: 2 }] : []),
    ].map((p) => ({ ...p, text: printable(p.text) }));
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
    const line = parts
      .filter((p) => kept.has(p))
      .map((p) => escapeTags(p.text))
      .join(sep);
    this.box.setContent(` ${line}${' '.repeat(Math.max(1, width - used - time.length - 2))}${time} `);
  }

  hide(): void {
    this.box.hide();
  }

  show(): void {
    this.box.show();
  }
}
