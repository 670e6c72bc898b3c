import {
  MigrationPhase as Phase,
  MigrationStrategy,
  migrationDone,
  phaseWords,
  type Migration,
} from '../../core/workload.js';
import { bar } from '../render/bar.js';
import { bytesText, rateText } from '../../core/format/bytes.js';
import { durationText } from '../../core/format/time.js';
import { precopyRound } from '../../core/format/migration.js';
import { serverName } from '../render/migration.js';
import { escapeTags, paint } from '../render/paint.js';
import type { Flow, Step } from './flow.js';
import { resultLines } from './result.js';
import { routeLine } from './summary.js';
import { TransferMeter } from './transfer-meter.js';

const MOVED: readonly Phase[] = [
  Phase.MIGRATION_PHASE_PLANNED,
  Phase.MIGRATION_PHASE_PREFLIGHT,
  Phase.MIGRATION_PHASE_PRECOPYING,
  Phase.MIGRATION_PHASE_CHECKPOINTING,
  Phase.MIGRATION_PHASE_TRANSFERRING,
  Phase.MIGRATION_PHASE_RESTORING,
  Phase.MIGRATION_PHASE_VERIFYING,
  Phase.MIGRATION_PHASE_COMMITTED,
];
/** Without pre-copy the state moves once, after the save. */
const ONCE = MOVED.filter((p) => p !== Phase.MIGRATION_PHASE_PRECOPYING);
/** A stateless restart moves no state: it starts the target, checks it, and commits. */
const STATELESS = ONCE.filter(
  (p) => p !== Phase.MIGRATION_PHASE_CHECKPOINTING && p !== Phase.MIGRATION_PHASE_TRANSFERRING,
);
const NAME = 15;

function phaseTime(m: Migration, phase: Phase): number | undefined {
  const t = m.timings;
  if (phase === Phase.MIGRATION_PHASE_PRECOPYING) return t?.precopyMs;
  if (phase === Phase.MIGRATION_PHASE_CHECKPOINTING) return t?.checkpointMs;
  if (phase === Phase.MIGRATION_PHASE_TRANSFERRING) return t?.transferMs;
  if (phase === Phase.MIGRATION_PHASE_RESTORING) return t?.restoreMs;
  if (phase === Phase.MIGRATION_PHASE_VERIFYING) return t?.verifyMs;
  return undefined;
}

/** The migration as it runs (phases, bytes, rate, ETA, downtime so far), then its result. */
export class Progress implements Step {
  private readonly meter = new TransferMeter();

  constructor(private readonly flow: Flow) {}

  get name(): 'progress' | 'result' {
    return this.done() ? 'result' : 'progress';
  }

  context(): 'progress' | 'result' {
    return this.name;
  }

  observe(m: Migration): void {
    if (m.id === this.flow.choice.migrationId) this.meter.observe(m);
  }

  lines(width: number): string[] {
    const m = this.migration();
    if (!m) return [paint(this.flow.look.theme.muted, 'The migration is no longer listed by the controller.')];
    this.meter.observe(m);
    if (migrationDone(m.phase)) return resultLines(m, this.flow.source, this.flow.look, width);
    return [routeLine(this.flow), '', ...this.phaseLines(m), '', ...this.transferLines(m, width)];
  }

  cancel(): void {
    const m = this.migration();
    if (!m || migrationDone(m.phase)) return;
    const { flow } = this;
    const from = serverName(flow.source, m.sourceServerId);
    flow.ask(
      `Cancel migration ${m.id.slice(0, 8)} of ${m.workload}? It rolls back and ${m.workload} keeps running on ${from}.`,
      () => {
        flow.run(
          `cancelling migration ${m.id.slice(0, 8)}`,
          () => flow.source.actions.cancelMigration(m.id),
          () => {},
        );
      },
    );
  }

  private migration(): Migration | undefined {
    return this.flow.source.migrations().find((m) => m.id === this.flow.choice.migrationId);
  }

  private done(): boolean {
    const m = this.migration();
    return m !== undefined && migrationDone(m.phase);
  }

  private phaseLines(m: Migration): string[] {
    const { theme, glyphs } = this.flow.look;
    const rollingBack = m.phase === Phase.MIGRATION_PHASE_ROLLING_BACK;
    const seen = new Set(this.meter.seen());
    const phases =
      m.strategy === MigrationStrategy.MIGRATION_STRATEGY_RESTART
        ? STATELESS
        : m.precopy || seen.has(Phase.MIGRATION_PHASE_PRECOPYING)
          ? MOVED
          : ONCE;
    const at = rollingBack ? -1 : phases.indexOf(m.phase);
    const lines = phases.map((phase, i) => {
      const name = phaseWords(phase).padEnd(NAME);
      const passed = rollingBack ? seen.has(phase) : i < at;
      if (i === at) return `{bold}${glyphs.selected} ${name}${escapeTags(this.currentDetail(m))}{/bold}`;
      if (passed) return `${paint(theme.levels.ok, glyphs.ok)} ${name}${escapeTags(this.passedDetail(m, phase))}`;
      return paint(theme.muted, `${glyphs.pending} ${name}`);
    });
    if (rollingBack) lines.push(`{bold}${paint(theme.levels.warn, `${glyphs.undo} ${phaseWords(m.phase)}`)}{/bold}`);
    return lines;
  }

  private currentDetail(m: Migration): string {
    const u = this.flow.look.glyphs.unknown;
    const bytes = m.bytesTotal > 0 ? `${bytesText(m.bytesDone, u)} of ${bytesText(m.bytesTotal, u)}` : '';
    if (m.phase === Phase.MIGRATION_PHASE_PRECOPYING)
      return `round ${precopyRound(m)}${bytes && `: ${bytes}`} ${this.flow.look.glyphs.sep} it still runs`;
    return m.phase === Phase.MIGRATION_PHASE_TRANSFERRING && bytes ? bytes : 'under way';
  }

  /** "1.80 s"; the pre-copy also says what it moved: "4.20 s · 3 rounds, 1.0 GiB". */
  private passedDetail(m: Migration, phase: Phase): string {
    const took = durationText(phaseTime(m, phase), '');
    const t = m.timings;
    if (phase !== Phase.MIGRATION_PHASE_PRECOPYING || !t || t.precopyRounds === 0) return took;
    const moved = `${t.precopyRounds} round${t.precopyRounds === 1 ? '' : 's'}, ${bytesText(t.precopyBytes)}`;
    return took ? `${took} ${this.flow.look.glyphs.sep} ${moved}` : moved;
  }

  private transferLines(m: Migration, width: number): string[] {
    const { look } = this.flow;
    const { glyphs, theme } = look;
    const u = glyphs.unknown;
    const downtime = this.meter.downtimeMs(m, this.flow.now());
    const stats = [
      `rate ${rateText(this.meter.rate(), u)}`,
      `ETA ${m.phase === Phase.MIGRATION_PHASE_TRANSFERRING ? durationText(this.meter.etaMs(m), u) : u}`,
      m.strategy === MigrationStrategy.MIGRATION_STRATEGY_RESTART
        ? 'no downtime (blue/green)'
        : m.phase === Phase.MIGRATION_PHASE_PRECOPYING
          ? 'no downtime yet'
          : `downtime so far ${durationText(downtime, u)}`,
    ];
    if (m.bytesTotal <= 0) return [escapeTags(stats[2]!)];
    const pct = Math.min(100, (m.bytesDone / m.bytesTotal) * 100);
    const amount =
      `${Math.round(pct)}%`.padStart(5) + `  ${bytesText(m.bytesDone, u)} of ${bytesText(m.bytesTotal, u)}`;
    const parts = bar(pct, Math.max(5, width - 2 - amount.length - 1), glyphs);
    return [
      `${paint(theme.series[0]!, parts.filled)}${paint(theme.muted, parts.empty)} ${escapeTags(amount)}`,
      escapeTags(stats.join(` ${glyphs.sep} `)),
    ];
  }
}
