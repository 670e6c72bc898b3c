import type { EndpointState, RouteState } from '../../core/domain.js';
import type { FleetSource } from '../../core/fleet.js';
import { endpointName, listenText as listenAt } from '../../core/format/endpoints.js';
import { healthWord } from '../../core/format/words.js';
import { BackendHealth, backendLabel } from '../../core/route.js';
import type { Colour } from '../theme.js';
import { printable } from '../../core/printable.js';
import { fit } from './format.js';
import type { Look } from './look.js';
import { escapeTags, paint } from './paint.js';
import type { Marked } from './states.js';

/** An endpoint's health as a symbol and its word, coloured: healthy and standby ok, degraded warn, unhealthy bad, draining dim. */
export function healthMark(e: EndpointState, look: Look): Marked {
  const { glyphs, theme } = look;
  const word = healthWord(e);
  const marks: Record<string, [string, Colour]> = {
    healthy: [glyphs.ok, theme.levels.ok],
    standby: [glyphs.ok, theme.levels.ok],
    degraded: [glyphs.live, theme.levels.warn],
    unhealthy: [glyphs.fail, theme.levels.crit],
    draining: [glyphs.states.draining, theme.states.draining],
  };
  const [symbol, colour] = marks[word] ?? [glyphs.unknown, theme.muted];
  return { text: `${symbol} ${word}`, colour };
}

/**
 * How a route is doing, as one symbol: ✗ not serving (an error, not listening, or no backend
 * that takes traffic is healthy), ◐ some backend failing, ✓ all well, – no report yet.
 */
export function routeMark(s: RouteState, look: Look): Marked {
  const { glyphs, theme } = look;
  if (s.error || (s.statsMs > 0 && !s.listening)) return { text: glyphs.fail, colour: theme.levels.crit };
  if (s.statsMs === 0) return { text: glyphs.unknown, colour: theme.muted };
  const serving = s.endpoints.filter((e) => !e.endpoint.draining && e.endpoint.weight > 0);
  const health = (e: EndpointState) => e.stats?.health ?? BackendHealth.BACKEND_HEALTH_UNSPECIFIED;
  if (serving.length > 0 && serving.every((e) => health(e) === BackendHealth.BACKEND_HEALTH_UNHEALTHY))
    return { text: glyphs.fail, colour: theme.levels.crit };
  const failing = s.endpoints.some(
    (e) => health(e) === BackendHealth.BACKEND_HEALTH_UNHEALTHY || health(e) === BackendHealth.BACKEND_HEALTH_DEGRADED,
  );
  return failing ? { text: glyphs.live, colour: theme.levels.warn } : { text: glyphs.ok, colour: theme.levels.ok };
}

const serverNameIn = (source: FleetSource) => (id: string) => source.get(id)?.server.name;

/** A backend as operators name it, as `yard routes` does: "api-blue@gpu-01", or its address. */
export function endpointLabel(e: EndpointState, source: FleetSource): string {
  return endpointName(e, serverNameIn(source));
}

/** Where a route listens, as `yard routes` writes it: "edge-1:8080", or "edge-1 10.0.0.5:8080". */
export function listenText(s: RouteState, source: FleetSource): string {
  return listenAt(s.route.listen, serverNameIn(source)(s.serverId));
}

/** The table's weight per version (backends without one by their own name), in the table's order. */
export function versionWeights(s: RouteState): { version: string; weight: number }[] {
  const byVersion = new Map<string, number>();
  for (const b of s.route.backends) {
    const version = b.version || backendLabel(b);
    byVersion.set(version, (byVersion.get(version) ?? 0) + (b.drain ? 0 : b.weight));
  }
  return [...byVersion].map(([version, weight]) => ({ version, weight }));
}

/** A piece of a line: plain text, its colour, bold or not. */
export interface Segment {
  text: string;
  colour?: Colour;
  bold?: boolean;
}

/** Segments joined by `gap`, cut to `width` columns with an ellipsis where the room ends; tagged. */
export function segmentLine(segments: readonly Segment[], width: number, ellipsis: string, gap = '  '): string {
  const painted = (seg: Segment, text: string): string => {
    const p = paint(seg.colour ?? 'none', escapeTags(text));
    return seg.bold ? `{bold}${p}{/bold}` : p;
  };
  let room = width;
  let out = '';
  for (const seg of segments) {
    // Measured as drawn: a control character shows as its escape.
    const text = printable(seg.text);
    if (text === '') continue;
    const lead = out === '' ? '' : gap;
    const want = lead.length + [...text].length;
    if (want > room) {
      if (room > lead.length) out += lead + painted(seg, fit(text, room - lead.length, ellipsis).trimEnd());
      break;
    }
    out += lead + painted(seg, text);
    room -= want;
  }
  return out;
}
