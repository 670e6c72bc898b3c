import type { KnownWorkload } from '../core/domain.js';
import type { MigrationPlan } from '../core/fleet.js';
import { bytesShort, bytesText, rateText } from '../core/format/bytes.js';
import { outcomeWords, precopyRound, timingRows, transferRate } from '../core/format/migration.js';
import { pctText, UNKNOWN } from '../core/format/numbers.js';
import { durationText, spanText } from '../core/format/time.js';
import { hasProcess } from '../core/format/words.js';
import { printable } from '../core/printable.js';
import { SCORE_HELP } from '../core/target-score.js';
import {
  MigrationPhase,
  migrationDone,
  migrationPhases,
  phaseWords,
  restartPolicies,
  strategies,
  workloadStates,
  type Migration,
  type PreflightCheck,
} from '../core/workload.js';
import type { TargetFit } from '../gen/switchyard/v1/control.js';

/** Server id → display name, from ListServers. */
export type ServerNames = ReadonlyMap<string, string>;

/** `yard migrate` exit codes beyond fail.ts's 0/1/2: how the migration ended. */
export const EXIT_ROLLED_BACK = 3;
export const EXIT_MIGRATION_FAILED = 4;

/** 0 committed, 3 rolled back, 4 failed; 1 for a migration that has not ended. */
export function exitCodeForPhase(phase: MigrationPhase): number {
  switch (phase) {
    case MigrationPhase.MIGRATION_PHASE_COMMITTED:
      return 0;
    case MigrationPhase.MIGRATION_PHASE_ROLLED_BACK:
      return EXIT_ROLLED_BACK;
    case MigrationPhase.MIGRATION_PHASE_FAILED:
      return EXIT_MIGRATION_FAILED;
    default:
      return 1;
  }
}

const rounded = (v: number | undefined) => (v === undefined ? undefined : Math.round(v));
const orNull = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const iso = (ms: number) => (ms ? new Date(ms).toISOString() : null);
const serverName = (id: string, names: ServerNames) => names.get(id) ?? id;

/** The stable JSON shape of `yard ps --json`. Unknown readings are null, never 0. */
export function workloadJson(w: KnownWorkload, names: ServerNames) {
  const spec = w.spec;
  // A workload with a process has a pid and readings; any other state has neither.
  const live = hasProcess(w);
  return {
    name: spec.name,
    server: orNull(names.get(w.serverId)),
    serverId: w.serverId,
    state: workloadStates.name(w.state),
    strategy: strategies.name(spec.strategy),
    restartPolicy: restartPolicies.name(spec.restart),
    command: spec.command,
    args: spec.args,
    labels: spec.labels,
    ports: spec.ports,
    pid: live && w.pid ? w.pid : null,
    restarts: w.restarts,
    restored: w.restored,
    cpuPct: live ? orNull(w.cpuPct) : null,
    rssBytes: live ? orNull(w.rssBytes) : null,
    gpuMemoryMiB: live ? orNull(w.gpuMemoryMib) : null,
    startedAt: iso(w.startedMs),
    exitCode: orNull(w.exitCode),
    exitSignal: w.exitSignal || null,
    stateDir: w.stateDir,
    stateBytes: orNull(w.stateBytes),
    message: w.message,
  };
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. Cells print, never act on the terminal. */
export function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function workloadsTable(workloads: readonly KnownWorkload[], names: ServerNames, now = Date.now()): string {
  if (workloads.length === 0) return 'no workloads: start one with `yard run --on SERVER -- COMMAND`\n';
  const rows = [['NAME', 'SERVER', 'STATE', 'STRATEGY', 'CPU', 'RSS', 'GPU-MEM', 'UPTIME', 'RESTARTS']];
  const sorted = [...workloads].sort((a, b) => a.spec.name.localeCompare(b.spec.name));
  for (const w of sorted) {
    const j = workloadJson(w, names);
    rows.push([
      j.name,
      serverName(w.serverId, names),
      j.state,
      j.strategy,
      pctText(j.cpuPct ?? undefined),
      bytesShort(j.rssBytes ?? undefined),
      j.gpuMemoryMiB === null ? UNKNOWN : bytesShort(j.gpuMemoryMiB * 2 ** 20),
      hasProcess(w) && w.startedMs ? spanText(now - w.startedMs) : UNKNOWN,
      String(w.restarts),
    ]);
  }
  return table(rows);
}

/** What `yard run` prints: where it runs and how to reach it. */
export function startedText(w: KnownWorkload, names: ServerNames): string {
  const name = w.spec.name;
  return (
    [
      `started ${name} on ${serverName(w.serverId, names)}`,
      `  pid        ${w.pid || UNKNOWN}`,
      `  state      ${workloadStates.name(w.state)}`,
      `  strategy   ${strategies.name(w.spec.strategy)}`,
      `  state dir  ${w.stateDir || UNKNOWN}`,
      `  output     yard logs -f ${name}`,
      `  console    yard attach ${name}  (Ctrl-] detaches)`,
    ]
      .map(printable)
      .join('\n') + '\n'
  );
}

/** One line after stop, pause or resume: the workload's state now. */
export function stateText(w: KnownWorkload, names: ServerNames): string {
  const state = workloadStates.name(w.state);
  // The agent's note says how it got here ("stopped (killed by SIGTERM)"); without one, the exit says it.
  const exit = w.exitSignal ? `killed by ${w.exitSignal}` : w.exitCode !== undefined ? `exit code ${w.exitCode}` : '';
  const note = w.message && w.message !== state ? w.message : hasProcess(w) ? '' : exit;
  return printable(`${w.spec.name} on ${serverName(w.serverId, names)}: ${state}${note ? ` (${note})` : ''}`) + '\n';
}

export interface Marks {
  ok: string;
  bad: string;
}
export const UNICODE_MARKS: Marks = { ok: '✓', bad: '✗' };
export const ASCII_MARKS: Marks = { ok: 'ok', bad: 'XX' };

function checkLines(checks: PreflightCheck[], marks: Marks): string[] {
  const width = Math.max(0, ...checks.map((c) => c.name.length));
  return checks.map((c) => `  ${c.ok ? marks.ok : marks.bad} ${c.name.padEnd(width)}  ${c.reason}`.trimEnd());
}

/** Eligible targets first, each group best score first. */
function rankTargets(targets: TargetFit[]): TargetFit[] {
  return [...targets].sort((a, b) => Number(b.eligible) - Number(a.eligible) || b.score - a.score);
}

/** `yard migrate --dry-run`: each preflight check, then the targets best first. */
export function planText(
  plan: MigrationPlan,
  names: ServerNames,
  target: string | undefined,
  marks: Marks = UNICODE_MARKS,
): string {
  const w = plan.workload;
  const lines = [
    `migrate ${w.spec.name} from ${serverName(w.serverId, names)}${target ? ` to ${target}` : ''} (strategy ${strategies.name(plan.strategy)})`,
  ];
  if (target) {
    lines.push('preflight:');
    lines.push(...(plan.preflight.length ? checkLines(plan.preflight, marks) : ['  (no checks reported)']));
    const failed = plan.preflight.filter((c) => !c.ok).length;
    lines.push(
      failed ? `${failed} of ${plan.preflight.length} checks failed: the migration would not start` : 'all checks pass',
    );
  }
  lines.push('targets, best first:');
  if (plan.targets.length === 0) lines.push('  none: no other server could take it');
  const ranked = rankTargets(plan.targets);
  const width = Math.max(0, ...ranked.map((t) => t.name.length));
  ranked.forEach((t, i) => {
    const why = t.reasons.length
      ? `  ${t.eligible ? '' : 'not eligible: '}${t.reasons.join('; ')}`
      : t.eligible
        ? ''
        : '  not eligible';
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${t.eligible ? marks.ok : marks.bad} ${t.name.padEnd(width)}  score ${Number(t.score.toFixed(2))}${why}`,
    );
  });
  // The number is the wizard's too: say what it means where it is shown.
  if (ranked.length > 0) lines.push(SCORE_HELP);
  return lines.map(printable).join('\n') + '\n';
}

/** Whether a dry run found nothing in the way: every check passes (or, without a target, some target is eligible). */
export function planPasses(plan: MigrationPlan, target: string | undefined): boolean {
  return target ? plan.preflight.every((c) => c.ok) : plan.targets.some((t) => t.eligible);
}

/** `yard migrate --dry-run --json`: the checks and the ranked targets. */
export function planJson(plan: MigrationPlan, names: ServerNames) {
  return {
    workload: workloadJson(plan.workload, names),
    strategy: strategies.name(plan.strategy),
    preflight: plan.preflight.map((c) => ({ name: c.name, ok: c.ok, reason: c.reason })),
    targets: rankTargets(plan.targets).map((t) => ({
      serverId: t.serverId,
      name: t.name,
      eligible: t.eligible,
      score: t.score,
      reasons: t.reasons,
    })),
  };
}

/** The stable JSON shape of a migration, for `yard migrate --json` and its non-TTY updates. */
export function migrationJson(m: Migration, names: ServerNames) {
  const t = m.timings;
  return {
    id: m.id,
    workload: m.workload,
    source: orNull(names.get(m.sourceServerId)),
    sourceServerId: m.sourceServerId,
    target: orNull(names.get(m.targetServerId)),
    targetServerId: m.targetServerId,
    strategy: strategies.name(m.strategy),
    phase: migrationPhases.name(m.phase),
    done: migrationDone(m.phase),
    requestedBy: m.requestedBy,
    createdAt: iso(m.createdMs),
    updatedAt: iso(m.updatedMs),
    finishedAt: iso(m.finishedMs),
    bytesDone: m.bytesDone,
    bytesTotal: m.bytesTotal || null,
    checkpointSha256: m.checkpointSha256 || null,
    transferPath: m.transferPath || null,
    precopy: m.precopy,
    preflight: m.preflight.map((c) => ({ name: c.name, ok: c.ok, reason: c.reason })),
    timings: {
      checkpointMs: orNull(t?.checkpointMs),
      transferMs: orNull(t?.transferMs),
      transferBytes: t?.transferBytes ?? null,
      restoreMs: orNull(t?.restoreMs),
      verifyMs: orNull(t?.verifyMs),
      downtimeMs: orNull(t?.downtimeMs),
      trafficHeldMs: orNull(t?.trafficHeldMs),
      trafficShiftMs: orNull(t?.trafficShiftMs),
      precopyMs: orNull(t?.precopyMs),
      precopyRounds: t?.precopyRounds ?? null,
      precopyBytes: t?.precopyBytes ?? null,
      bytesSaved: t?.bytesSaved ?? null,
      // Bytes a second of the move after the save.
      transferRate: orNull(rounded(transferRate(t))),
    },
    error: m.error || null,
  };
}

export interface ProgressView {
  now: number;
  /** Terminal width: the line never wraps, or redrawing it in place would scroll. */
  columns: number;
  /** Measured transfer rate in bytes per second, if known. */
  rateBps?: number;
  /** When watching began, if the migration's own creation time is unknown. */
  startedMs?: number;
}

/** " 100%  1023.9 MiB / 1023.9 MiB  1023.9 MiB/s  elapsed 10m00s" and the bar's brackets. */
const TAIL_WIDTH = 62;

function bar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** One line redrawn in place while a migration runs: phase (or pre-copy round), bar, bytes, rate, elapsed. */
export function progressLine(m: Migration, view: ProgressView): string {
  const start = m.createdMs || view.startedMs || view.now;
  const end = m.finishedMs || view.now;
  const precopying = m.phase === MigrationPhase.MIGRATION_PHASE_PRECOPYING;
  const phase = precopying ? `pre-copy round ${precopyRound(m)}` : phaseWords(m.phase);
  const elapsed = `elapsed ${durationText(end - start)}`;
  const parts = [`${m.workload}: ${phase.padEnd(13)}`];
  const rate = view.rateBps ? `  ${rateText(view.rateBps)}` : '';
  if ((precopying || m.phase === MigrationPhase.MIGRATION_PHASE_TRANSFERRING) && m.bytesTotal > 0) {
    const fraction = m.bytesDone / m.bytesTotal;
    const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}%  ${bytesText(m.bytesDone)} / ${bytesText(m.bytesTotal)}${rate}  ${elapsed}`;
    // Sized for the widest tail, so the bar keeps its width while the numbers change.
    const barWidth = Math.min(30, view.columns - 1 - parts[0]!.length - TAIL_WIDTH);
    parts.push(barWidth >= 8 ? ` ${bar(fraction, barWidth)}${tail}` : tail);
  } else if (moving(m) && m.bytesDone > 0) {
    // The archive's size is not known until it is written: bytes so far, no bar.
    parts.push(`  ${bytesText(m.bytesDone)}${rate}  ${elapsed}`);
  } else {
    parts.push(`  ${elapsed}`);
  }
  const line = printable(parts.join(''));
  return line.length < view.columns ? line : line.slice(0, Math.max(0, view.columns - 1));
}

/** Phases in which checkpoint bytes move (the upload from the source may count while it checkpoints). */
function moving(m: Migration): boolean {
  return (
    m.phase === MigrationPhase.MIGRATION_PHASE_CHECKPOINTING || m.phase === MigrationPhase.MIGRATION_PHASE_TRANSFERRING
  );
}

/**
 * Which run of bytes an update belongs to: each pre-copy round counts from zero again, and the
 * move after the save (its upload may start while it checkpoints) is one more.
 */
function segment(m: Migration): string | undefined {
  if (m.phase === MigrationPhase.MIGRATION_PHASE_PRECOPYING) return `precopy ${precopyRound(m)}`;
  return moving(m) ? 'move' : undefined;
}

/** Bytes per second moved since bytes were first seen moving in this round of them. */
export class TransferRate {
  private segment: string | undefined;
  private first?: { at: number; bytes: number };
  private last?: number;
  private complete = false;

  update(m: Migration, now: number): number | undefined {
    const seg = segment(m);
    if (seg === undefined) return undefined;
    if (seg !== this.segment) {
      this.segment = seg;
      this.first = undefined;
      this.last = undefined;
      this.complete = false;
    }
    // Once every byte is there, the rate is what it took, not a number that decays while it waits.
    if (this.complete) return this.last;
    // Measured from the last moment nothing had moved yet: a save before the first byte is not slowness.
    if (!this.first || m.bytesDone <= this.first.bytes) this.first = { at: now, bytes: m.bytesDone };
    const secs = (now - this.first.at) / 1000;
    if (secs > 0.2) this.last = (m.bytesDone - this.first.bytes) / secs;
    this.complete = this.last !== undefined && m.bytesTotal > 0 && m.bytesDone >= m.bytesTotal;
    return this.last;
  }
}

/** The summary after a migration ends: its outcome, then how long each phase took. */
export function timingsText(m: Migration, names: ServerNames): string {
  return (
    [
      `${outcomeWords(m, serverName(m.sourceServerId, names), serverName(m.targetServerId, names))} (migration ${m.id}, ${strategies.name(m.strategy)})`,
      ...(m.error ? [`  why         ${m.error}`] : []),
      ...timingRows(m).map(([what, value]) => `  ${what.padEnd(12)}${value}`),
    ]
      .map(printable)
      .join('\n') + '\n'
  );
}
