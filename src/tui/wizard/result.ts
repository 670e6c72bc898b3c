import { ageText } from '../../core/format/time.js';
import type { FleetSource } from '../../core/fleet.js';
import { strategies, type Migration } from '../../core/workload.js';
import type { Look } from '../render/look.js';
import { outcomeText, routeText, timingLines } from '../render/migration.js';
import { escapeTags, paint } from '../render/paint.js';
import { phaseMark } from '../render/states.js';
import { wrapText } from '../render/wrap.js';

/** The last screen: how it ended (committed ✓, rolled back ↺, failed ✗), the error, the timings. */
export function resultLines(m: Migration, source: FleetSource, look: Look, width: number): string[] {
  const { theme, glyphs } = look;
  const outcome = `{bold}${paint(phaseMark(m.phase, look).colour, escapeTags(outcomeText(m, source, glyphs)))}{/bold}`;
  const error = m.error
    ? wrapText(m.error, Math.max(10, width - 2)).map((l) => paint(theme.levels.crit, escapeTags(l)))
    : [];
  const took = m.finishedMs > 0 ? ` ${glyphs.sep} took ${ageText(m.finishedMs - m.createdMs)}` : '';
  return [
    outcome,
    paint(theme.muted, escapeTags(`${routeText(m, source, glyphs)} ${glyphs.sep} ${strategies.name(m.strategy)}`)),
    ...error,
    '',
    'Timings:',
    ...timingLines(m, look),
    '',
    paint(theme.muted, escapeTags(`migration ${m.id.slice(0, 8)}${took} ${glyphs.sep} listed under Migrations (M)`)),
  ];
}
