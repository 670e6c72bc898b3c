import type blessed from 'blessed';
import type { FleetServer } from '../../core/fleet.js';
import { isKnown } from '../../core/format/numbers.js';
import { stateName } from '../../core/types.js';
import { agedText, isStale, lastSeenText } from '../freshness.js';
import { bar, level } from '../render/bar.js';
import { bigHeight, bigText, bigWidth } from '../render/big-digits.js';
import type { Glyphs } from '../glyphs.js';
import { fit } from '../render/format.js';
import { gpuLine } from '../render/gpu-line.js';
import { gpusOf } from '../render/gpus.js';
import type { Look } from '../render/look.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { gpuSummary, gpuTroubleNow } from './server-card.js';
import { borderedBox, hide, indent, labelText, place, type Rect } from './rect.js';
import { cordonBadge } from './server-card.js';

/** Rows besides the big numbers: border (2), the state, the GPUs, the captions and the bars. */
const WALL_CARD_CHROME_ROWS = 2 + 1 + 1 + 1 + 1;
/** The smallest wall card: the big numbers at their smallest. */
export const WALL_CARD_HEIGHT = WALL_CARD_CHROME_ROWS + bigHeight(1);
/** Three big "100" side by side, with the border and margins: 160 columns hold three cards. */
export const MIN_WALL_CARD_WIDTH = 52;
const CARD_CHROME = 4;
/**
 * The widest number a card shows, which sizes its digits (so they do not jump as values
 * change). The "%" goes in the caption: a big "%" would cost a size of digits on 80 columns.
 */
const WIDEST = '100';
const MOST_SCALE = 4;

interface Metric {
  caption: string;
  pct: number | undefined;
}

/** CPU and memory, and the GPUs' mean utilisation where the host has GPUs: nothing else. */
function metrics(fs: FleetServer): Metric[] {
  const latest = fs.server.latest;
  const memPct =
    latest && latest.memoryTotalBytes > 0 ? (latest.memoryUsedBytes / latest.memoryTotalBytes) * 100 : undefined;
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

/**
 * A host the wall must not show as healthy: silent (disconnected, down, or unknown — as every
 * host is to a dashboard that lost its controller), degraded (late, or its GPU tooling fails).
 * The state is the controller's word, from heartbeats: the samples' own clocks may be skewed.
 */
export function inTrouble(fs: FleetServer): boolean {
  return stateName(fs.server.state) !== 'online' || gpuTroubleNow(fs) !== undefined;
}

/** The biggest digits that fit `metricsShown` numbers side by side in `width` and the rows in `height`. */
function wallScale(width: number, height: number, metricsShown: number, glyphs: Glyphs): number {
  const column = Math.floor(width / metricsShown);
  let scale = 1;
  while (
    scale < MOST_SCALE &&
    glyphs.unicode &&
    bigWidth(WIDEST, scale + 1) < column &&
    WALL_CARD_CHROME_ROWS - 2 + bigHeight(scale + 1) <= height
  )
    scale++;
  return scale;
}

function stateLine(fs: FleetServer, width: number, now: number, look: Look, stale: boolean, trouble: boolean): string {
  const name = stateName(fs.server.state);
  const state = `${look.glyphs.states[name]} ${name.toUpperCase()}`;
  // A host out of service says so where a silent one says how long it has been silent.
  const badge = stale ? undefined : cordonBadge(fs.server, look);
  const right = stale ? lastSeenText(fs.server, now) : (badge?.text ?? '');
  const rightText = fit(right, Math.max(0, width - state.length - 2), look.glyphs.ellipsis).trimEnd();
  const gap = ' '.repeat(Math.max(1, width - state.length - rightText.length));
  const colour = trouble ? look.theme.states.down : look.theme.states[name];
  const rightColour = trouble ? look.theme.states.down : badge ? look.theme.states[badge.key] : 'none';
  return `{bold}${paint(colour, state)}{/bold}${gap}{bold}${paint(rightColour, escapeTags(rightText))}{/bold}`;
}

/**
 * A card for a wall display, `height` rows of `width` columns inside the border: the state, the
 * GPUs (or what fails), two or three numbers big enough to read across a room, and one line per
 * GPU in the rows left over. A host in trouble is red throughout; numbers that are no longer
 * now show as "?", their last value and age in the caption.
 */
export function wallCardLines(fs: FleetServer, width: number, height: number, now: number, look: Look): string[] {
  const { theme, glyphs } = look;
  const stale = isStale(fs.server, now);
  const trouble = inTrouble(fs);
  const shown = metrics(fs);
  const column = Math.floor(width / shown.length);
  const summary = gpuSummary(fs, width, now, look);
  // What fails in nvidia-smi takes a second line, from the digits' rows.
  const scale = wallScale(width, height - Math.max(0, summary.length - 1), shown.length, glyphs);
  const valueText = (m: Metric) => (isKnown(m.pct) ? String(Math.round(m.pct)) : '-');
  const caption = (m: Metric) =>
    stale && isKnown(m.pct) ? agedText(`${m.caption} ${valueText(m)}%`, fs.server, now, glyphs.sep) : `${m.caption} %`;
  const captions = shown
    .map((m) =>
      paint(
        trouble ? theme.states.down : theme.muted,
        escapeTags(fit(caption(m), column - 1, glyphs.ellipsis).padEnd(column)),
      ),
    )
    .join('');
  const big = shown.map((m) => bigText(stale ? '?' : valueText(m), glyphs, scale));
  const colourOf = (m: Metric) => (trouble ? theme.states.down : theme.levels[level(m.pct)]);
  const digits = Array.from({ length: bigHeight(scale, glyphs) }, (_, r) =>
    shown
      .map((m, i) => {
        const text = big[i]![r]!;
        return `{bold}${paint(colourOf(m), text)}{/bold}${' '.repeat(Math.max(0, column - text.length))}`;
      })
      .join(''),
  );
  const bars = shown
    .map((m) => {
      const parts = bar(stale ? undefined : m.pct, Math.max(0, column - 2), glyphs);
      return `${paint(colourOf(m), parts.filled)}${paint(theme.muted, parts.empty)}  `;
    })
    .join('');
  const labels =
    Object.entries(fs.server.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || fs.server.hostname;
  const second =
    summary.length > 0 ? summary : [paint(theme.muted, escapeTags(fit(labels, width, glyphs.ellipsis).trimEnd()))];
  const lines = [stateLine(fs, width, now, look, stale, trouble), ...second, captions, ...digits, bars];
  const gpus = gpusOf(fs);
  const room = height - lines.length;
  const perGpu = gpus.length > room ? Math.max(0, room - 1) : gpus.length;
  for (const gpu of gpus.slice(0, perGpu)) lines.push(gpuLine(gpu.index, gpu.sample, gpu.history, width, look, stale));
  if (perGpu < gpus.length && room > 0) lines.push(paint(theme.muted, `+${gpus.length - perGpu} more GPUs`));
  return lines.slice(0, Math.max(0, height));
}

/** One server on a wall display; the fleet view keeps a pool of these, like its normal cards. */
export class WallCard {
  private readonly box: blessed.Widgets.BoxElement;
  private label = '';

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = borderedBox(parent);
  }

  show(fs: FleetServer, rect: Rect, now: number): void {
    const { theme, glyphs } = this.look;
    const trouble = inTrouble(fs);
    // Trouble must show without colour too: a mark in the title and an inverse border.
    const name = trouble ? `${glyphs.states.down} ${fs.server.name}` : fs.server.name;
    const label = `{bold}${paint(trouble ? theme.states.down : 'none', labelText(name, rect.width, glyphs.ellipsis))}{/bold}`;
    if (label !== this.label) {
      this.box.setLabel(label);
      this.label = label;
    }
    const border = trouble ? theme.states.down : theme.border;
    this.box.style.border = borderStyle(border, { bold: true, inverse: trouble && border === 'none' });
    this.box.setContent(indent(wallCardLines(fs, rect.width - CARD_CHROME, rect.height - 2, now, this.look)));
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }
}
