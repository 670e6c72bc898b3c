import type { FleetSource } from '../../core/fleet.js';
import { MigrationPhase, migrationDone, type Migration, type PreflightCheck } from '../../core/workload.js';
import { outcomeWords, timingRows } from '../../core/format/migration.js';
import type { Glyphs } from '../glyphs.js';
import { bar } from './bar.js';
import { padLeft } from './format.js';
import type { Look } from './look.js';
import { escapeTags, paint } from './paint.js';

// How a migration reads, shared by the Migrations view and the wizard.

export function serverName(source: FleetSource, id: string): string {
  return source.get(id)?.server.name ?? (id || '?');
}

/** "gpu-a100-01 → gpu-t4-03" */
export function routeText(m: Migration, source: FleetSource, glyphs: Glyphs): string {
  return `${serverName(source, m.sourceServerId)} ${glyphs.arrow} ${serverName(source, m.targetServerId)}`;
}

/** Bytes moving with a known total: a pre-copy round (while it runs) or the transfer after the save. */
export function isTransferring(m: Migration): boolean {
  return (
    (m.phase === MigrationPhase.MIGRATION_PHASE_TRANSFERRING ||
      m.phase === MigrationPhase.MIGRATION_PHASE_PRECOPYING) &&
    m.bytesTotal > 0
  );
}

export function transferPct(m: Migration): number | undefined {
  return m.bytesTotal > 0 ? (m.bytesDone / m.bytesTotal) * 100 : undefined;
}

/** A bar and percentage while the checkpoint moves, as plain text: "████░░░░  50%". */
export function progressText(m: Migration, width: number, glyphs: Glyphs): string {
  if (!isTransferring(m)) return '';
  const pct = transferPct(m);
  const parts = bar(pct, Math.max(0, width - 5), glyphs);
  return `${parts.filled}${parts.empty}${padLeft(`${Math.round(pct ?? 0)}%`, 5)}`;
}

/** The phases' times as `yard migrate` lists them, the names muted. */
export function timingLines(m: Migration, look: Look): string[] {
  return timingRows(m, look.glyphs.unknown).map(
    ([what, value]) => `${paint(look.theme.muted, what.padEnd(11))}${escapeTags(value)}`,
  );
}

/** One line per check: "✓ disk          1.3T free, checkpoint needs 12.0G". */
export function preflightLines(checks: readonly PreflightCheck[], look: Look): string[] {
  const { theme, glyphs } = look;
  const width = Math.max(0, ...checks.map((c) => c.name.length)) + 2;
  return checks.map((c) => {
    const mark = c.ok ? paint(theme.levels.ok, glyphs.ok) : paint(theme.levels.crit, glyphs.fail);
    return `${mark} ${escapeTags(c.name.padEnd(width))}${escapeTags(c.reason)}`;
  });
}

/** How it ended, in `yard migrate`'s sentence after its symbol: "✓ committed: trainer-llama now runs on gpu-t4-03". */
export function outcomeText(m: Migration, source: FleetSource, glyphs: Glyphs): string {
  const words = outcomeWords(m, serverName(source, m.sourceServerId), serverName(source, m.targetServerId));
  switch (m.phase) {
    case MigrationPhase.MIGRATION_PHASE_COMMITTED:
      return `${glyphs.ok} ${words}`;
    case MigrationPhase.MIGRATION_PHASE_ROLLED_BACK:
      return `${glyphs.undo} ${words}`;
    case MigrationPhase.MIGRATION_PHASE_FAILED:
      return `${glyphs.fail} ${words}`;
    default:
      return migrationDone(m.phase) ? '' : `${glyphs.live} ${words}`;
  }
}
