import { MigrationPhase, noTimings, phaseWords, type Migration, type MigrationTimings } from '../workload.js';
import { bytesText, transferText } from './bytes.js';
import { isKnown, UNKNOWN } from './numbers.js';
import { durationText } from './time.js';

/** How a migration ended, or where it stands, in a sentence: "committed: train now runs on gpu2". */
export function outcomeWords(m: Migration, source: string, target: string): string {
  switch (m.phase) {
    case MigrationPhase.MIGRATION_PHASE_COMMITTED:
      return `committed: ${m.workload} now runs on ${target}`;
    case MigrationPhase.MIGRATION_PHASE_ROLLED_BACK:
      return `rolled back: ${m.workload} keeps running on ${source}`;
    case MigrationPhase.MIGRATION_PHASE_FAILED:
      return `failed: moving ${m.workload} from ${source} to ${target}`;
    default:
      return `${phaseWords(m.phase)}: ${m.workload} from ${source} to ${target}`;
  }
}

/** Downtime, where none at all (a blue/green restart) reads "none" rather than "0 ms". */
export function downtimeText(ms: number | undefined, unknown = UNKNOWN): string {
  return ms === 0 ? 'none' : durationText(ms, unknown);
}

/** The controller's default for pre-copy, as the CLI's help and the wizard say it. */
export const PRECOPY_DEFAULT_WORDS = 'on when the state dir is larger than 64 MiB';

/** The path a checkpoint took, in the operator's words: "agent to agent", "relayed by the controller". */
function pathText(path: string): string {
  if (path === 'direct') return 'agent to agent';
  if (path === 'relay') return 'relayed by the controller';
  return '';
}

/** Bytes a second of the move after the save, from the record's timings; undefined until it took a known, nonzero time. */
export function transferRate(t: MigrationTimings | undefined): number | undefined {
  return t && isKnown(t.transferMs) && t.transferMs > 0 ? (t.transferBytes / t.transferMs) * 1000 : undefined;
}

/** Whether a migration pre-copied, or began to: the pre-copy rows then belong in its timings. */
function precopied(m: Migration): boolean {
  return m.precopy || (m.timings?.precopyRounds ?? 0) > 0;
}

/**
 * The pre-copy round under way while it pre-copies: the record counts the rounds done (with the
 * bytes they moved), and bytesDone/bytesTotal follow the round in progress.
 */
export function precopyRound(m: Migration): number {
  return (m.timings?.precopyRounds ?? 0) + 1;
}

/** "3 rounds: 1.0 GiB in 4.20 s (243.8 MiB/s) while it ran"; before its time is known, "1 round done: 1.0 GiB so far". */
function precopyText(t: MigrationTimings, unknown: string): string {
  if (t.precopyRounds === 0 && !isKnown(t.precopyMs)) return unknown;
  const rounds = `${t.precopyRounds} round${t.precopyRounds === 1 ? '' : 's'}`;
  if (!isKnown(t.precopyMs)) return `${rounds} done: ${bytesText(t.precopyBytes)} so far`;
  return `${rounds}: ${transferText(t.precopyBytes, t.precopyMs, unknown)} while it ran`;
}

/** What is known of each phase's time, [what, how long] in order, as `yard migrate` and the dashboard list them. */
export function timingRows(m: Migration, unknown = UNKNOWN): [string, string][] {
  const t = m.timings ?? noTimings();
  const moved = t.transferBytes > 0 || isKnown(t.transferMs);
  const path = pathText(m.transferPath);
  const rows: [string, string][] = [];
  if (precopied(m)) rows.push(['pre-copy', precopyText(t, unknown)]);
  rows.push(
    ['checkpoint', durationText(t.checkpointMs, unknown)],
    ['transfer', moved ? transferText(t.transferBytes, t.transferMs, unknown) + (path && `, ${path}`) : unknown],
  );
  // What pre-copy is for: the bytes that did not have to move while the workload was stopped.
  if (precopied(m) && moved) rows.push(['saved', `${bytesText(t.bytesSaved)} not carried after the save`]);
  rows.push(
    ['restore', durationText(t.restoreMs, unknown)],
    ['verify', durationText(t.verifyMs, unknown)],
    ['downtime', downtimeText(t.downtimeMs, unknown)],
  );
  // Only for a workload that backs routes.
  if (isKnown(t.trafficHeldMs))
    rows.push(['traffic', `held ${durationText(t.trafficHeldMs)} at the proxies during the cutover`]);
  if (isKnown(t.trafficShiftMs)) rows.push(['traffic', `shifted to the target in ${durationText(t.trafficShiftMs)}`]);
  return rows;
}
