import { drainCounts, drainOutcomes, drainPhases, type Drain } from '../core/drain.js';
import { durationText } from '../core/format/time.js';
import { printable } from '../core/printable.js';

type Names = ReadonlyMap<string, string>;
const iso = (ms: number) => (ms ? new Date(ms).toISOString() : null);

/** The stable JSON shape of a drain (`yard drain --json`, `yard servers --json`). */
export function drainJson(d: Drain, names: Names) {
  return {
    phase: drainPhases.name(d.phase),
    requestedBy: d.requestedBy,
    started: iso(d.startedMs),
    deadline: iso(d.deadlineMs),
    finished: iso(d.finishedMs),
    parallel: d.parallel,
    ...drainCounts(d),
    message: d.message,
    workloads: d.workloads.map((w) => ({
      workload: w.workload,
      outcome: drainOutcomes.name(w.outcome),
      how: w.how || null,
      migration: w.migrationId || null,
      target: w.targetServerId ? (names.get(w.targetServerId) ?? w.targetServerId) : null,
      downtimeMs: w.downtimeMs || null,
      message: w.message,
    })),
  };
}

/** One line of progress: the counts so far and the time left. */
export function drainLine(server: string, d: Drain, now: number): string {
  const c = drainCounts(d);
  const moving = d.workloads.filter((w) => drainOutcomes.name(w.outcome) === 'moving').map((w) => w.workload);
  // A workload no host can take yet says why (the targets' reasons).
  const waiting = d.workloads.find((w) => drainOutcomes.name(w.outcome) === 'waiting' && w.message);
  const doing = moving.length
    ? ` · moving ${moving.join(', ')}`
    : waiting
      ? ` · ${waiting.workload} ${waiting.message}`
      : '';
  const left = Math.max(0, d.deadlineMs - now);
  return printable(
    `draining ${server}: ${c.moved}/${c.total} moved${c.failed ? `, ${c.failed} failed` : ''} · ${durationText(left)} to the deadline${doing}`,
  );
}

/** The report at the end: the outcome, then one line per workload. */
export function drainReport(server: string, d: Drain, names: Names): string {
  const c = drainCounts(d);
  const head =
    drainPhases.name(d.phase) === 'drained'
      ? `drained ${server}: ${c.total} workload${c.total === 1 ? '' : 's'} moved in ${durationText(d.finishedMs - d.startedMs)}; it stays cordoned (\`yard uncordon ${server}\` puts it back in service)`
      : `drain of ${server} ${drainPhases.name(d.phase)} after ${durationText(d.finishedMs - d.startedMs)} (${c.moved}/${c.total} moved): ${d.message}`;
  const rows = d.workloads.map((w) => {
    const to = w.targetServerId ? `→ ${names.get(w.targetServerId) ?? w.targetServerId}` : '';
    const down = w.downtimeMs ? `downtime ${durationText(w.downtimeMs)}` : '';
    return `  ${[w.workload, drainOutcomes.name(w.outcome), w.how, to, down, w.message].filter(Boolean).join('  ')}`;
  });
  return [head, ...rows].map(printable).join('\n') + '\n';
}
