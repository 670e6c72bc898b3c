import blessed from 'blessed';
import { formatAge } from '../../core/duration.js';
import type { Server } from '../../core/types.js';
import { stateName } from '../../core/types.js';
import { isStale, lastSeenText } from '../freshness.js';
import { fit, formatBytes } from '../render/format.js';
import type { Look } from '../render/look.js';
import { borderStyle, escapeTags, paint } from '../render/paint.js';
import { hide, indent, labelText, place, type Rect } from './rect.js';

const KEY_WIDTH = 9;

function rows(server: Server, now: number, look: Look): [string, string][] {
  const { glyphs } = look;
  const u = glyphs.unknown;
  const host = server.host;
  const latest = server.latest;
  const state = stateName(server.state);
  const since = server.stateSinceMs > 0 ? ` ${glyphs.sep} for ${formatAge(now - server.stateSinceMs)}` : '';
  const out: [string, string][] = [
    ['state', `${glyphs.states[state]} ${state}${since}`],
    ['host', server.hostname || u],
    ['os', host ? `${host.os} ${glyphs.sep} ${host.arch}` : u],
    ['kernel', host?.kernel || u],
    ['cpu', host ? `${host.cpuModel} ${glyphs.sep} ${host.cpuCores} cores` : u],
    ['memory', latest ? `${formatBytes(latest.memoryUsedBytes, u)} / ${formatBytes(latest.memoryTotalBytes, u)} ${glyphs.sep} swap ${formatBytes(latest.swapUsedBytes, u)} / ${formatBytes(latest.swapTotalBytes, u)}` : u],
    ['load', latest ? `${latest.load1.toFixed(2)} ${latest.load5.toFixed(2)} ${latest.load15.toFixed(2)}` : u],
    ['address', server.addresses.join(', ') || u],
    ['mac', server.mac || u],
    ['labels', Object.entries(server.labels).map(([k, v]) => `${k}=${v}`).join(' ') || u],
  ];
  if (server.location) out.push(['location', server.location]);
  out.push(['agent', `${server.agentVersion || u} ${glyphs.sep} ${lastSeenText(server, now)}`]);
  return out;
}

export function hostInfoHeight(server: Server): number {
  return 2 + 11 + (server.location ? 1 : 0);
}

/** What the agent told us about its host, and how fresh that is. */
export class HostInfo {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(parent: blessed.Widgets.Node, private readonly look: Look) {
    this.box = blessed.box({ parent, hidden: true, tags: true, wrap: false, border: { type: 'line' }, style: { border: {} } });
  }

  show(rect: Rect, server: Server, now: number): void {
    const { theme, glyphs } = this.look;
    const width = rect.width - 4 - KEY_WIDTH;
    const stale = isStale(server, now);
    this.box.setLabel(labelText(server.name, rect.width, glyphs.ellipsis));
    const lines = rows(server, now, this.look).map(([key, value], i) => {
      const text = escapeTags(fit(value, width, glyphs.ellipsis).trimEnd());
      // The state line keeps its colour; everything else a silent host said is old news.
      const painted = i === 0 ? paint(theme.states[stateName(server.state)], text) : stale && key !== 'agent' ? paint(theme.stale, text) : text;
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
