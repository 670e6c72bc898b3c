import { errorMessage } from '../../core/errors.js';
import { DEFAULT_CHECKPOINT_TIMEOUT_MS, MigrationPhase as P } from '../../core/workload.js';
import type { PreCopy } from './mover.js';
import type { MigrationRun } from './strategy.js';

/**
 * Pre-copy is on by itself above this. Below it a whole move takes under half a second on a
 * 1 Gbit/s link (64 MiB at 125 MB/s), so the downtime pre-copy could save is smaller than what
 * it costs: a scan and a hash of the dir on both hosts, and a round before the save.
 */
const PRECOPY_ABOVE_BYTES = 64 * 1024 * 1024;
/** Rounds while the workload runs, at most (QEMU-style: stop when the rounds stop shrinking). */
const MAX_ROUNDS = 5;
/** A round that moved this little leaves the last one short: stop pre-copying. */
const CONVERGED_BYTES = 16 * 1024 * 1024;

/**
 * Before the checkpoint, while the workload still runs: the target stages the source's state
 * dir in rounds, each moving only the chunks that changed since the one before, until a round
 * moves little, stops shrinking by half, or MAX_ROUNDS. Undefined when pre-copy is off (asked,
 * or the dir is small), impossible (no direct path), or failed: the move then goes on as a
 * whole checkpoint, the workload untouched either way.
 */
export async function precopy(run: MigrationRun): Promise<PreCopy | undefined> {
  if (run.precopy === false || !run.mover.precopy) return undefined;
  const { m, workload } = run;
  const { spec } = workload;
  let pre: PreCopy | undefined;
  try {
    pre = await run.mover.precopy({
      checkpointId: m.id,
      sourceServerId: m.sourceServerId,
      targetServerId: m.targetServerId,
      spec,
      maxBytes: run.maxCheckpointBytes,
      saveTimeoutMs: spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS,
    });
  } catch (err) {
    run.log.warn('pre-copy could not start; moving the whole checkpoint after the save', {
      id: m.id,
      error: errorMessage(err),
    });
    return undefined;
  }
  if (!pre) {
    if (run.precopy)
      run.log.warn('pre-copy needs a direct path from the source; moving the whole checkpoint', { id: m.id });
    return undefined;
  }
  if (run.precopy === undefined && pre.size < PRECOPY_ABOVE_BYTES) {
    pre.close();
    return undefined;
  }
  const t0 = Date.now();
  await run.phase(P.MIGRATION_PHASE_PRECOPYING, { precopy: true, bytesTotal: pre.size, bytesDone: 0 });
  let rounds = 0;
  let bytes = 0;
  let last = Number.POSITIVE_INFINITY;
  try {
    for (;;) {
      run.signal.throwIfAborted();
      const size = pre.size;
      const r = await pre.round((b) => run.progress(b, size));
      rounds++;
      bytes += r.moved;
      run.measured({ precopyRounds: rounds, precopyBytes: bytes, precopyMs: Date.now() - t0 });
      run.progress(r.moved, r.bytes);
      run.log.info('pre-copy round', { id: m.id, round: rounds, movedBytes: r.moved, stateBytes: r.bytes });
      if (r.moved <= CONVERGED_BYTES || r.moved > last / 2 || rounds >= MAX_ROUNDS) return pre;
      last = r.moved;
    }
  } catch (err) {
    pre.close();
    // A cancel rolls back; anything else only costs the pre-copy.
    if (run.signal.aborted) throw err;
    run.log.warn('pre-copy failed; moving the whole checkpoint after the save', { id: m.id, error: errorMessage(err) });
    // Its staging dir would hold the target's disk that the whole checkpoint now needs.
    await pre.abandon();
    await run.phase(P.MIGRATION_PHASE_PRECOPYING, { precopy: false });
    return undefined;
  }
}
