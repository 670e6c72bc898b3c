import { MigrationPhase, noTimings, phaseWords, type Migration } from '../workload.js';
import { transferText } from './bytes.js';
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

/** The path a checkpoint took, as a suffix to its transfer figures. */
function pathWords(path: string): string {
  if (path === 'direct') return ', agent to agent';
  if (path === 'relay') return ', relayed by the controller';
  return '';
}

/** What is known of each phase's time, [what, how long] in order, as `yard migrate` and the dashboard list them. */
export function timingRows(m: Migration, unknown = UNKNOWN): [string, string][] {
  const t = m.timings ?? noTimings();
  const moved = t.transferBytes > 0 || isKnown(t.transferMs);
  const rows: [string, string][] = [
    ['checkpoint', durationText(t.checkpointMs, unknown)],
    ['transfer', moved ? transferText(t.transferBytes, t.transferMs, unknown) + pathWords(m.transferPath) : unknown],
    ['restore', durationText(t.restoreMs, unknown)],
    ['verify', durationText(t.verifyMs, unknown)],
    ['downtime', downtimeText(t.downtimeMs, unknown)],
  ];
  // Only for a workload that backs routes.
  if (isKnown(t.trafficHeldMs))
    rows.push(['traffic', `held ${durationText(t.trafficHeldMs)} at the proxies during the cutover`]);
  if (isKnown(t.trafficShiftMs)) rows.push(['traffic', `shifted to the target in ${durationText(t.trafficShiftMs)}`]);
  return rows;
}
