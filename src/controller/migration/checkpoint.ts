import { YardError } from '../../core/errors.js';
import { DEFAULT_CHECKPOINT_TIMEOUT_MS, MigrationPhase as P } from '../../core/workload.js';
import { TRANSFER_TIMEOUT_MS } from './relay.js';
import type { Moved, PreCopy } from './mover.js';
import { precopy } from './precopy.js';
import { NoCheckpoint, NothingChanged, type MigrationRun, type Strategy } from './strategy.js';
import { IDLE_WAIT_MS, idleOrWarn, type Traffic } from './traffic.js';

/**
 * A move with the workload's state: the source saves it (how: `save`), the save moves to the
 * target, and the target starts from it. Traffic waits at the proxies from just before the save
 * until the target runs.
 */
export function savedStateStrategy(save: { freeze: boolean }): Strategy {
  return {
    movesState: true,
    async move(run) {
      // Freeze stops the workload where it stands: nothing to gain from copying it while it ran.
      const pre = save.freeze ? undefined : await precopy(run);
      try {
        return await moveSaved(run, save, pre);
      } finally {
        pre?.close();
      }
    },
    async trafficOffTarget(traffic, m) {
      // The source is not back yet: new clients wait for it rather than fail.
      await traffic.hold();
      await traffic.idle(m.targetServerId, IDLE_WAIT_MS);
    },
  };
}

async function moveSaved(run: MigrationRun, save: { freeze: boolean }, pre: PreCopy | undefined): Promise<void> {
  await run.phase(P.MIGRATION_PHASE_CHECKPOINTING);
  const held = await holdTraffic(run);
  const stoppedAtMs = Date.now();
  // Pre-copy moves the dir itself; a direct path packs it as it sends: no archive either way.
  const noArchive = pre !== undefined || (run.mover.packsAsItSends?.(run.m.sourceServerId) ?? false);
  const saved = await saveOnSource(run, save.freeze, noArchive);
  // The whole checkpoint phase: signal → saved and exited → archive packed (or, when it is packed
  // on the way or pre-copied, the dir checked).
  const timings = { checkpointMs: Date.now() - stoppedAtMs, transferBytes: saved.size };
  run.signal.throwIfAborted();

  await run.phase(P.MIGRATION_PHASE_TRANSFERRING, {
    bytesTotal: saved.size,
    bytesDone: 0,
    checkpointSha256: saved.sha256,
    timings,
  });
  const { m } = run;
  let moved: Moved;
  if (pre) {
    // Only the chunks that changed since the last round; the target checks every chunk of the dir.
    const last = await pre.finish((b) => run.progress(b, saved.size));
    moved = last;
    run.measured({ transferMs: last.transferMs, transferBytes: last.moved, bytesSaved: last.bytes - last.moved });
    await run.phase(P.MIGRATION_PHASE_TRANSFERRING, { checkpointSha256: last.digest });
  } else {
    const move = {
      checkpointId: m.id,
      sourceServerId: m.sourceServerId,
      targetServerId: m.targetServerId,
      spec: run.workload.spec,
      ...saved,
      maxBytes: run.maxCheckpointBytes,
    };
    moved = await run.mover.move(move, { signal: run.signal, onProgress: (b) => run.progress(b, saved.size) });
    run.measured({ transferMs: moved.transferMs, ...(moved.archive && { transferBytes: moved.archive.size }) });
    if (moved.archive) await run.phase(P.MIGRATION_PHASE_TRANSFERRING, { checkpointSha256: moved.archive.sha256 });
  }
  run.progress(saved.size, saved.size);
  run.signal.throwIfAborted();

  await run.phase(P.MIGRATION_PHASE_RESTORING, { transferPath: moved.path ?? '' });
  const restoreStart = Date.now();
  const started = await run.startOnTarget(true);
  const runningAt = Date.now();
  // Restore: unpacking on the target, then starting it there.
  run.measured({ restoreMs: moved.installMs + runningAt - restoreStart, downtimeMs: runningAt - stoppedAtMs });
  if (held) await cutOver(run, held);
  await run.verify(started);
}

export const checkpoint = savedStateStrategy({ freeze: false });

/** The source saves and stops; an error says whether it still runs (NothingChanged) or saved nothing (NoCheckpoint). */
async function saveOnSource(
  run: MigrationRun,
  freeze: boolean,
  noArchive: boolean,
): Promise<{ sha256: string; size: number }> {
  const { spec } = run.workload;
  const timeoutMs = (spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS) + TRANSFER_TIMEOUT_MS;
  const action = {
    $case: 'checkpoint' as const,
    value: { name: spec.name, checkpointId: run.m.id, freeze, maxBytes: run.maxCheckpointBytes, noArchive },
  };
  const cp = await run.send(run.m.sourceServerId, action, timeoutMs).catch((err: unknown) => {
    // Ignored the signal: it never stopped, nothing changed.
    if (err instanceof YardError && ['CHECKPOINT_TIMEOUT', 'NOT_FOUND', 'INVALID_ARGUMENT'].includes(err.code))
      throw new NothingChanged(err.message);
    // Died on the signal, or saved badly: we stopped it, so we start it again (fresh: no checkpoint was made).
    if (err instanceof YardError && err.code === 'CHECKPOINT_FAILED') throw new NoCheckpoint(err.message);
    throw err;
  });
  return { sha256: cp.sha256, size: cp.size };
}

/**
 * The proxies stop sending the workload new connections and make new clients wait; open ones
 * get a moment to finish before the workload is signalled. Undefined: the workload backs no route.
 */
async function holdTraffic(run: MigrationRun): Promise<{ traffic: Traffic; atMs: number } | undefined> {
  const traffic = run.traffic;
  if (!traffic) return undefined;
  const atMs = Date.now();
  await traffic.hold();
  await idleOrWarn(run, traffic, run.m.sourceServerId, IDLE_WAIT_MS, 'checkpointing with connections still open');
  return { traffic, atMs };
}

/**
 * New connections waited at the proxies since the hold; let them through once the controller
 * sees the workload live on the target alone (the agents' snapshots can trail their command results).
 */
async function cutOver(run: MigrationRun, held: { traffic: Traffic; atMs: number }): Promise<void> {
  await held.traffic.settled(run.m.targetServerId);
  await held.traffic.release();
  run.measured({ trafficHeldMs: Date.now() - held.atMs });
}
