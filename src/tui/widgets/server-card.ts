import type blessed from 'blessed';
import type { FleetServer } from '../../core/fleet.js';
import { cordonWord, drainCounts } from '../../core/drain.js';
import { gpuTool, isScraped, stateName, type Server } from '../../core/types.js';
import { trafficText } from '../../core/format/bytes.js';
import { ageText } from '../../core/format/time.js';
import { gpuModels, gpuTrouble, gpuTroubleGist } from '../../core/gpu-status.js';
import { isSilent, isStale, lastSeenText } from '../freshness.js';
import { fit, padLeft } from '../render/format.js';
import { gpuLine } from '../render/gpu-line.js';
import { gpuCount, gpusOf } from '../render/gpus.js';
import type { Look } from '../render/look.js';
import { meterLine } from '../render/meter.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { sparkline } from '../render/sparkline.js';
import { borderedBox, hide, indent, labelText, place, type Rect } from './rect.js';

/** Border (2) plus the state, labels, CPU, memory and network lines. */
const CARD_BASE_HEIGHT = 7;

/** The card's rows: one more for the GPU models (two for what fails), and one per GPU. */
export function cardHeight(fs: FleetServer): number {
  const gpus = gpuCount(fs);
  return CARD_BASE_HEIGHT + gpus + (gpuTroubleNow(fs) ? 2 : gpus > 0 ? 1 : 0);
}

/** The GPU tooling's fault, while the host is heard from (a silent host's last word is not news). */
export function gpuTroubleNow(fs: FleetServer) {
  return isSilent(fs.server) ? undefined : gpuTrouble(fs.server.latest);
}

/**
 * "GPU 8× H100 80GB HBM3"; or, in the alarm colour, what fails and for how long, then why
 * (a line of its own: a card is too narrow for both). None for a host without GPUs.
 */
export function gpuSummary(fs: FleetServer, width: number, now: number, look: Look): string[] {
  const { glyphs, theme } = look;
  const alarm = (text: string) =>
    `{bold}${paint(theme.states.down, escapeTags(fit(text, width, glyphs.ellipsis).trimEnd()))}{/bold}`;
  const trouble = gpuTroubleNow(fs);
  if (trouble)
    return [
      alarm(`GPU ${glyphs.states.down} ${gpuTool(fs.server)} ${trouble.state} for ${ageText(now - trouble.sinceMs)}`),
      alarm(gpuTroubleGist(trouble.message)),
    ];
  const gpus = gpusOf(fs);
  if (gpus.length === 0) return [];
  return [
    paint(
      theme.muted,
      escapeTags(
        fit(
          `GPU ${gpuModels(
            gpus.map((g) => g.name),
            glyphs.unicode ? '×' : 'x',
          )}`,
          width,
          glyphs.ellipsis,
        ).trimEnd(),
      ),
    ),
  ];
}

/** "10.0.0.7:9100" of an exporter's URL: the card is too narrow for the rest. */
function pageHost(url = ''): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Border and margins take this many columns from a card's width. */
const CARD_CHROME = 4;

/** "⊘ drained", "▽ draining 1/3": whether the host is out of service, if it is. */
export function cordonBadge(server: Server, look: Look): { text: string; key: 'draining' | 'cordoned' } | undefined {
  const word = cordonWord(server);
  if (!word) return undefined;
  const key = word === 'draining' ? 'draining' : 'cordoned';
  const d = server.drain;
  const progress = word === 'draining' && d ? ` ${drainCounts(d).moved}/${d.workloads.length}` : '';
  return { text: `${look.glyphs.states[key]} ${word}${progress}`, key };
}

function stateLine(fs: FleetServer, width: number, now: number, look: Look, stale: boolean): string {
  const { server } = fs;
  const name = stateName(server.state);
  const badge = cordonBadge(server, look);
  const state = `${look.glyphs.states[name]} ${name}`;
  const left = badge ? `${state} ${badge.text}` : state;
  const right = stale
    ? lastSeenText(server, now)
    : server.hostname !== server.name
      ? server.hostname
      : (server.addresses[0] ?? '');
  const rightText = fit(right, Math.max(0, width - left.length - 2), look.glyphs.ellipsis).trimEnd();
  const gap = ' '.repeat(Math.max(1, width - left.length - rightText.length));
  const painted = badge
    ? `${paint(look.theme.states[name], state)} {bold}${paint(look.theme.states[badge.key], badge.text)}{/bold}`
    : paint(look.theme.states[name], state);
  // The age of a silent host is the one thing on its card that is current: never dim it.
  return `${painted}${gap}${stale ? rightText : paint(look.theme.muted, escapeTags(rightText))}`;
}

/** Its labels; a scraped host says so first, with where it is polled. */
function labelsLine(fs: FleetServer, width: number, look: Look): string {
  const { server } = fs;
  const labels = Object.entries(server.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const text = isScraped(server)
    ? `scraped ${look.glyphs.sep} ${pageHost(server.scrapeUrl)}${labels ? ` ${labels}` : ''}`
    : labels || 'no labels';
  return paint(look.theme.muted, escapeTags(fit(text, width, look.glyphs.ellipsis).trimEnd()));
}

function netLine(fs: FleetServer, width: number, look: Look, stale: boolean): string {
  const { glyphs, theme } = look;
  const latest = fs.server.latest;
  const rx = padLeft(trafficText(latest?.netRxBytesPerSec, glyphs.unknown), 9);
  const tx = padLeft(trafficText(latest?.netTxBytesPerSec, glyphs.unknown), 9);
  const text = `NET ${glyphs.rx}${rx} ${glyphs.tx}${tx}`;
  const sparkWidth = Math.max(0, width - text.length - 1);
  const spark = sparkline(fs.series.netRx.values(sparkWidth), sparkWidth, glyphs);
  if (stale) return paint(theme.stale, `${text} ${spark}`);
  return `${text} ${paint(theme.series[0]!, spark)}`;
}

/** The card's lines (tagged), for `height` rows of `width` columns inside the border. */
function cardLines(fs: FleetServer, width: number, height: number, now: number, look: Look): string[] {
  const stale = isStale(fs.server, now);
  const latest = fs.server.latest;
  const memPct =
    latest && latest.memoryTotalBytes > 0 ? (latest.memoryUsedBytes / latest.memoryTotalBytes) * 100 : undefined;
  const lines = [
    stateLine(fs, width, now, look, stale),
    labelsLine(fs, width, look),
    meterLine('CPU', latest?.cpuPct, fs.series.cpu, width, look, stale),
    meterLine('MEM', memPct, fs.series.memory, width, look, stale),
    netLine(fs, width, look, stale),
  ];
  lines.push(...gpuSummary(fs, width, now, look));
  const gpus = gpusOf(fs);
  const room = height - lines.length;
  // When every GPU does not fit, the last line says how many are left out.
  const shown = gpus.length > room ? Math.max(0, room - 1) : gpus.length;
  for (const gpu of gpus.slice(0, shown)) lines.push(gpuLine(gpu.index, gpu.sample, gpu.history, width, look, stale));
  if (shown < gpus.length && room > 0)
    lines.push(paint(look.theme.muted, `+${gpus.length - shown} more GPUs (Enter for all)`));
  return lines.slice(0, Math.max(0, height));
}

/** One server's card in the fleet grid; the grid keeps a pool of these and re-fills them. */
export class ServerCard {
  private readonly box: blessed.Widgets.BoxElement;
  private label = '';

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = borderedBox(parent);
  }

  show(fs: FleetServer, rect: Rect, selected: boolean, now: number): void {
    const { box, look } = this;
    // Selection must show without colour: a marker in the title and an inverse border.
    const marker = selected ? `${look.glyphs.selected} ` : '';
    const label = labelText(`${marker}${fs.server.name}`, rect.width, look.glyphs.ellipsis);
    const text = selected ? `{bold}${label}{/bold}` : label;
    if (text !== this.label) {
      box.setLabel(text);
      this.label = text;
    }
    const border = selected ? look.theme.selected : look.theme.border;
    box.style.border = borderStyle(border, { bold: selected, inverse: selected && border === 'none' });
    box.setContent(indent(cardLines(fs, rect.width - CARD_CHROME, rect.height - 2, now, look)));
    place(box, rect);
  }

  hide(): void {
    hide(this.box);
  }
}
