import type blessed from 'blessed';
import { bytesShort } from '../../core/format/bytes.js';
import { ageText, agoText } from '../../core/format/time.js';
import { gpuModels, gpuTrouble, gpuTroubleGist } from '../../core/gpu-status.js';
import type { Server } from '../../core/types.js';
import { gpuTool, isScraped, stateName } from '../../core/types.js';
import { isSilent, isStale, lastSeenText } from '../freshness.js';
import { clock } from './header.js';
import { fit } from '../render/format.js';
import type { Look } from '../render/look.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { borderedBox, hide, indent, labelText, place, type Rect } from './rect.js';
import { cordonBadge } from './server-card.js';

const KEY_WIDTH = 9;

/** The GPU tooling's fault while the host is heard from: the one row painted as an alarm. */
function trouble(server: Server) {
  return isSilent(server) ? undefined : gpuTrouble(server.latest);
}

/** The GPUs by model, or that the host has none. */
function gpusText(server: Server, look: Look): string {
  const names = server.latest?.gpus.length
    ? server.latest.gpus.map((g) => g.name)
    : (server.capabilities?.gpus ?? []).map((g) => g.name);
  if (names.length > 0) return gpuModels(names, look.glyphs.unicode ? '×' : 'x');
  return server.latest?.gpuStatus?.state === 'absent' ? 'none (no nvidia-smi)' : 'none';
}

/** `text` in at most `lines` rows of `width`, cut between words; the last row takes the rest. */
function wrapped(text: string, width: number, lines: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (out.length < lines - 1 && rest.length > width) {
    const cut = rest.lastIndexOf(' ', width);
    const at = cut > 0 ? cut : width;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).trimStart();
  }
  out.push(rest);
  return out;
}

/** Rows the GPU tooling's fault takes: what fails, since when, and why (two rows). */
const TROUBLE_ROWS = 4;

/** What fails in nvidia-smi, since when and why, in rows a narrow box can hold. */
function troubleRows(server: Server, now: number, width: number, look: Look): [string, string][] {
  const fault = trouble(server)!;
  const why = wrapped(gpuTroubleGist(fault.message), width, 2);
  return [
    ['gpus', `${look.glyphs.states.down} ${gpuTool(server)} ${fault.state}`],
    ['since', `${clock(fault.sinceMs)} (${agoText(now - fault.sinceMs)})`],
    ['why', why[0]!],
    ['', why[1] ?? ''],
  ];
}

function rows(server: Server, now: number, width: number, look: Look): [string, string][] {
  const { glyphs } = look;
  const u = glyphs.unknown;
  const host = server.host;
  const latest = server.latest;
  const state = stateName(server.state);
  const badge = cordonBadge(server, look);
  const since = server.stateSinceMs > 0 ? ` ${glyphs.sep} for ${ageText(now - server.stateSinceMs)}` : '';
  const out: [string, string][] = [
    ['state', `${glyphs.states[state]} ${state}${badge ? ` ${glyphs.sep} ${badge.text}` : ''}${since}`],
    ['host', server.hostname || u],
    ['os', host ? `${host.os} ${glyphs.sep} ${host.arch}` : u],
    ['kernel', host?.kernel || u],
    ['cpu', host ? `${host.cpuModel || u} ${glyphs.sep} ${host.cpuCores} cores` : u],
    ...(trouble(server)
      ? troubleRows(server, now, width, look)
      : [['gpus', gpusText(server, look)] as [string, string]]),
    [
      'memory',
      latest
        ? `${bytesShort(latest.memoryUsedBytes, u)} / ${bytesShort(latest.memoryTotalBytes, u)} ${glyphs.sep} swap ${bytesShort(latest.swapUsedBytes, u)} / ${bytesShort(latest.swapTotalBytes, u)}`
        : u,
    ],
    ['load', latest ? `${latest.load1.toFixed(2)} ${latest.load5.toFixed(2)} ${latest.load15.toFixed(2)}` : u],
    ['address', server.addresses.join(', ') || u],
    ['mac', server.mac || u],
    [
      'labels',
      Object.entries(server.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || u,
    ],
  ];
  if (server.location) out.push(['location', server.location]);
  out.push(
    isScraped(server)
      ? ['scraped', `${server.scrapeUrl || u} ${glyphs.sep} ${lastSeenText(server, now)}`]
      : ['agent', `${server.agentVersion || u} ${glyphs.sep} ${lastSeenText(server, now)}`],
  );
  return out;
}

export function hostInfoHeight(server: Server): number {
  return 2 + 12 + (trouble(server) ? TROUBLE_ROWS - 1 : 0) + (server.location ? 1 : 0);
}

/** What the agent told us about its host, and how fresh that is. */
export class HostInfo {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = borderedBox(parent);
  }

  show(rect: Rect, server: Server, now: number): void {
    const { theme, glyphs } = this.look;
    const width = rect.width - 4 - KEY_WIDTH;
    const stale = isStale(server, now);
    this.box.setLabel(labelText(server.name, rect.width, glyphs.ellipsis));
    const lines = rows(server, now, width, this.look).map(([key, value], i) => {
      const text = escapeTags(fit(value, width, glyphs.ellipsis).trimEnd());
      // The state line keeps its colour; everything else a silent host said is old news.
      const painted =
        i === 0
          ? paint(theme.states[stateName(server.state)], text)
          : ['gpus', 'since', 'why', ''].includes(key) && trouble(server)
            ? `{bold}${paint(theme.states.down, text)}{/bold}`
            : stale && key !== 'agent' && key !== 'scraped'
              ? paint(theme.stale, text)
              : text;
      return `${paint(theme.muted, key.padEnd(KEY_WIDTH))}${painted}`;
    });
    this.box.setContent(indent(lines));
    this.box.style.border = borderStyle(this.look.theme.border);
    place(this.box, rect);
  }

  hide(): void {
    hide(this.box);
  }
}
