import blessed from 'blessed';
import type { FleetServer } from '../../core/fleet.js';
import { stateName } from '../../core/types.js';
import { isStale, lastSeenText } from '../freshness.js';
import { bar, level } from '../render/bar.js';
import { BIG_HEIGHT, bigText } from '../render/big-digits.js';
import { fit, isKnown } from '../render/format.js';
import { gpusOf } from '../render/gpus.js';
import type { Look } from '../render/look.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { hide, indent, labelText, place, type Rect } from './rect.js';

/** Border, the state line, captions, the big numbers and their bars. */
export const WALL_CARD_HEIGHT = 2 + 1 + 1 + BIG_HEIGHT + 1;
/** Three big "100%" side by side, with the border and margins: 160 columns hold three cards. */
export const MIN_WALL_CARD_WIDTH = 52;
const CARD_CHROME = 4;

interface Metric {
  caption: string;
  pct: number | undefined;
}

/** CPU and memory, and the GPUs' mean utilisation where the host has GPUs: nothing else. */
function metrics(fs: FleetServer): Metric[] {
  const latest = fs.server.latest;
  const memPct = latest && latest.memoryTotalBytes > 0 ? (latest.memoryUsedBytes / latest.memoryTotalBytes) * 100 : undefined;
  const out: Metric[] = [
    { caption: 'CPU', pct: latest?.cpuPct },
    { caption: 'MEM', pct: memPct },
  ];
  const gpus = gpusOf(fs);
  if (gpus.length > 0) {
    const known = gpus.map((g) => g.sample?.utilizationPct).filter(isKnown);
    const mean = known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : undefined;
    out.push({ caption: gpus.length === 1 ? 'GPU' : `GPU x${gpus.length}`, pct: mean });
  }
  return out;
}

function stateLine(fs: FleetServer, width: number, now: number, look: Look, stale: boolean): string {
  const name = stateName(fs.server.state);
  const state = `${look.glyphs.states[name]} ${name.toUpperCase()}`;
  const right = stale ? lastSeenText(fs.server, now) : '';
  const rightText = fit(right, Math.max(0, width - state.length - 2), look.glyphs.ellipsis).trimEnd();
  const gap = ' '.repeat(Math.max(1, width - state.length - rightText.length));
  return `{bold}${paint(look.theme.states[name], state)}{/bold}${gap}{bold}${escapeTags(rightText)}{/bold}`;
}

/** A card for a wall display: the state and two or three numbers big enough to read across a room. */
export function wallCardLines(fs: FleetServer, width: number, now: number, look: Look): string[] {
  const { theme, glyphs } = look;
  const stale = isStale(fs.server, now);
  const shown = metrics(fs);
  const column = Math.floor(width / shown.length);
  const captions = shown.map((m) => paint(theme.muted, m.caption.padEnd(column))).join('');
  const big = shown.map((m) => bigText(isKnown(m.pct) ? `${Math.round(m.pct)}%` : '-', glyphs));
  const colourOf = (m: Metric) => (stale ? theme.stale : theme.levels[level(m.pct)]);
  const digits = Array.from({ length: BIG_HEIGHT }, (_, r) => shown.map((m, i) => {
    const text = big[i]![r]!;
    return `{bold}${paint(colourOf(m), text)}{/bold}${' '.repeat(Math.max(0, column - text.length))}`;
  }).join(''));
  const bars = shown.map((m) => {
    const parts = bar(m.pct, Math.max(0, column - 2), glyphs);
    return `${paint(colourOf(m), parts.filled)}${paint(theme.muted, parts.empty)}  `;
  }).join('');
  return [stateLine(fs, width, now, look, stale), captions, ...digits, bars];
}

/** One server on a wall display; the fleet view keeps a pool of these, like its normal cards. */
export class WallCard {
  private readonly box: blessed.Widgets.BoxElement;
  private label = '';

  constructor(parent: blessed.Widgets.Node, private readonly look: Look) {
    this.box = blessed.box({ parent, hidden: true, tags: true, wrap: false, border: { type: 'line' }, style: { border: {} } });
  }

  show(fs: FleetServer, rect: Rect, now: number): void {
    const label = `{bold}${labelText(fs.server.name, rect.width, this.look.glyphs.ellipsis)}{/bold}`;
    if (label !== this.label) {
      this.box.setLabel(label);
      this.label = label;
    }
    this.box.style.border = borderStyle(this.look.theme.border, { bold: true });
    this.box.setContent(indent(wallCardLines(fs, rect.width - CARD_CHROME, now, this.look)));
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }
}
