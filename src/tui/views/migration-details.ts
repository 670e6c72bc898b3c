import { bytesText } from '../../core/format/bytes.js';
import { ageText, agoText } from '../../core/format/time.js';
import type { FleetSource } from '../../core/fleet.js';
import { precopyRound } from '../../core/format/migration.js';
import { MigrationPhase, strategies, type Migration } from '../../core/workload.js';
import type { Look } from '../render/look.js';
import {
  isTransferring,
  outcomeText,
  preflightLines,
  progressText,
  routeText,
  timingLines,
  transferPct,
} from '../render/migration.js';
import { escapeTags, paint } from '../render/paint.js';
import { phaseMark } from '../render/states.js';
import { wrapText } from '../render/wrap.js';

const KEY = 11;

function row(look: Look, key: string, value: string): string {
  return `${paint(look.theme.muted, key.padEnd(KEY))}${value}`;
}

/** Lines under one key, the later ones indented to line up. */
function block(look: Look, key: string, lines: readonly string[]): string[] {
  return lines.map((line, i) => row(look, i === 0 ? key : '', line));
}

/** Everything known about one migration: route, phase, preflight results, timings, error. */
export function migrationDetails(m: Migration, source: FleetSource, look: Look, now: number, width: number): string[] {
  const { glyphs, theme } = look;
  const phase = phaseMark(m.phase, look);
  const took = m.finishedMs > 0 ? ` ${glyphs.sep} took ${ageText(m.finishedMs - m.createdMs)}` : '';
  const lines = [
    row(look, 'workload', escapeTags(m.workload)),
    row(look, 'route', `${escapeTags(routeText(m, source, glyphs))} ${glyphs.sep} ${strategies.name(m.strategy)}`),
    row(
      look,
      'phase',
      `${paint(phase.colour, phase.text)} ${glyphs.sep} ${escapeTags(m.requestedBy || glyphs.unknown)}, ${agoText(now - m.createdMs)}${took}`,
    ),
  ];
  if (isTransferring(m)) {
    const round =
      m.phase === MigrationPhase.MIGRATION_PHASE_PRECOPYING ? ` ${glyphs.sep} pre-copy round ${precopyRound(m)}` : '';
    const moved = ` ${bytesText(m.bytesDone, glyphs.unknown)} of ${bytesText(m.bytesTotal, glyphs.unknown)}${round}`;
    // The bar gives way to the figures on a narrow terminal (the box takes 4 columns).
    const bar = progressText(m, Math.max(10, Math.min(30, width - 4 - KEY - moved.length)), glyphs);
    lines.push(row(look, 'progress', `${paint(theme.series[0]!, bar)}${escapeTags(moved)}`));
  } else if (m.bytesTotal > 0 && (transferPct(m) ?? 0) < 100) {
    lines.push(
      row(look, 'moved', `${bytesText(m.bytesDone, glyphs.unknown)} of ${bytesText(m.bytesTotal, glyphs.unknown)}`),
    );
  }
  lines.push(
    ...block(
      look,
      'preflight',
      m.preflight.length > 0 ? preflightLines(m.preflight, look) : [paint(theme.muted, 'not run')],
    ),
  );
  lines.push(...block(look, 'timings', timingLines(m, look)));
  if (m.checkpointSha256) lines.push(row(look, 'sha256', escapeTags(m.checkpointSha256)));
  lines.push(row(look, 'outcome', escapeTags(outcomeText(m, source, glyphs))));
  if (m.error)
    lines.push(
      ...block(
        look,
        'error',
        wrapText(m.error, width - KEY - 4).map((l) => paint(theme.levels.crit, escapeTags(l))),
      ),
    );
  return lines;
}
