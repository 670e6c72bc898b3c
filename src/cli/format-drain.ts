import { drainCounts, drainOutcomes, drainPhases, type Drain, type DrainItem } from '../core/drain.js';
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

/** How one workload of a drain stands, in a few words. */
function itemText(w: DrainItem, names: Names): string {
  const to = w.targetServerId ? ` → ${names.get(w.targetServerId) ?? w.targetServerId}` : '';
  const outcome = drainOutcomes.name(w.outcome);
  if (outcome === 'moving') return `${w.how === 'reschedule' ? 'rescheduling' : w.phase || 'moving'}${to}`;
  if (outcome === 'moved') return `moved${to}${w.downtimeMs ? ` · downtime ${durationText(w.downtimeMs)}` : ''}`;
  return w.message ? `${outcome} · ${w.message}` : outcome;
}

/**
 * Progress on a terminal: the counts and the time left, then one line per workload (its
 * migration's phase while it moves), each cut to `width`, at most `rows` lines in all.
 */
export function drainLines(server: string, d: Drain, names: Names, now: number, width: number, rows: number): string[] {
  const c = drainCounts(d);
  const left = Math.max(0, d.deadlineMs - now);
  const head = `draining ${server}: ${c.moved}/${c.total} moved${c.failed ? `, ${c.failed} failed` : ''} · ${durationText(left)} to the deadline`;
  const pad = Math.max(0, ...d.workloads.map((w) => w.workload.length));
  const items = d.workloads.map((w) => `  ${w.workload.padEnd(pad)}  ${itemText(w, names)}`);
  const room = Math.max(1, rows - 1);
  const shown = items.length > room ? [...items.slice(0, room - 1), `  … ${items.length - room + 1} more`] : items;
  return [head, ...shown].map((line) => printable(line).slice(0, width));
}

/** The report at the end: the outcome, then one line per workload. */
export function drainReport(server: string, d: Drain, names: Names): string {
  const c = drainCounts(d);
  const head =
    drainPhases.name(d.phase) === 'drained'
      ? `drained ${server}: ${c.total} workload${c.total === 1 ? '' : 's'} moved in ${durationText(d.finishedMs - d.startedMs)}; it stays cordoned (\`yard uncordon ${server}\` puts it back in service)`
      : `drain of ${server} ${drainPhases.name(d.phase)} after ${durationText(d.finishedMs - d.startedMs)} (${c.moved}/${c.total} moved): ${d.message}`;
  const pad = Math.max(0, ...d.workloads.map((w) => w.workload.length));
  const rows = d.workloads.map((w) => {
    const to = w.targetServerId ? `→ ${names.get(w.targetServerId) ?? w.targetServerId}` : '';
    const down = w.downtimeMs ? `downtime ${durationText(w.downtimeMs)}` : '';
    return `  ${[w.workload.padEnd(pad), drainOutcomes.name(w.outcome), w.how, to, down, w.message].filter(Boolean).join('  ')}`;
  });
  return [head, ...rows].map(printable).join('\n') + '\n';
}
