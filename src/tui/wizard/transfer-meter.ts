import { precopyRound } from '../../core/format/migration.js';
import { MigrationPhase as Phase, MigrationStrategy, type Migration } from '../../core/workload.js';

interface Point {
  t: number;
  bytes: number;
}

/**
 * Which run of bytes an update belongs to: each pre-copy round counts from zero, the save has
 * none of its own (a round's rate would be stale there), then the transfer, whose rate stays
 * shown after it.
 */
function segment(m: Migration): string | undefined {
  if (m.phase === Phase.MIGRATION_PHASE_PRECOPYING) return `precopy ${precopyRound(m)}`;
  if (m.phase === Phase.MIGRATION_PHASE_CHECKPOINTING) return 'save';
  return m.phase === Phase.MIGRATION_PHASE_TRANSFERRING ? 'transfer' : undefined;
}

/**
 * What a migration record does not say but its updates do: the rate of the bytes moving now
 * (a pre-copy round, or the transfer), the time left, and the downtime so far. Times are the
 * record's own (updatedMs), so a controller's clock and ours never mix.
 */
export class TransferMeter {
  private segment: string | undefined;
  private first: Point | undefined;
  private last: Point | undefined;
  private readonly phaseStarts = new Map<Phase, number>();

  observe(m: Migration): void {
    if (!this.phaseStarts.has(m.phase)) this.phaseStarts.set(m.phase, m.updatedMs);
    const seg = segment(m);
    if (seg === undefined) return;
    if (seg !== this.segment) {
      this.segment = seg;
      this.first = undefined;
      this.last = undefined;
    }
    if (seg === 'save') return;
    const point = { t: m.updatedMs, bytes: m.bytesDone };
    // From the last update before bytes moved: waiting for the first byte is not slowness.
    if (!this.first || point.bytes <= this.first.bytes) this.first = point;
    this.last = point;
  }

  /** Phases seen so far, in the order they were first seen. */
  seen(): Phase[] {
    return [...this.phaseStarts.keys()];
  }

  /** Bytes a second over what we watched of the bytes moving now (or last). */
  rate(): number | undefined {
    if (!this.first || !this.last || this.last.t <= this.first.t) return undefined;
    return ((this.last.bytes - this.first.bytes) / (this.last.t - this.first.t)) * 1000;
  }

  /** Milliseconds left at the current rate. */
  etaMs(m: Migration): number | undefined {
    const rate = this.rate();
    return rate && rate > 0 ? ((m.bytesTotal - m.bytesDone) / rate) * 1000 : undefined;
  }

  /**
   * From the source stopping work (checkpointing) to the target running (verifying): the
   * record's figure once there is one; none for a stateless restart, nor while it pre-copies
   * (the workload still runs).
   */
  downtimeMs(m: Migration, now: number): number | undefined {
    if (m.timings?.downtimeMs !== undefined) return m.timings.downtimeMs;
    if (m.strategy === MigrationStrategy.MIGRATION_STRATEGY_RESTART) return 0;
    if (m.phase === Phase.MIGRATION_PHASE_PRECOPYING) return 0;
    const start =
      this.phaseStarts.get(Phase.MIGRATION_PHASE_CHECKPOINTING) ??
      this.phaseStarts.get(Phase.MIGRATION_PHASE_TRANSFERRING);
    if (start === undefined) return undefined;
    const end = this.phaseStarts.get(Phase.MIGRATION_PHASE_VERIFYING) ?? Math.max(now, m.updatedMs);
    return Math.max(0, end - start);
  }
}
