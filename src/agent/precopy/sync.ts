// Pre-copy rounds on the target agent: one StagedState per move in flight, under the agent's
// inbox, fed round by round from the source (fetchStateFromPeer), installed after the last.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { SyncState } from '../../gen/switchyard/v1/agent_gateway.js';
import { fetchStateFromPeer, type PeerTls } from '../peer-transfer.js';
import type { Manifest } from './manifest.js';
import { StagedState } from './stage.js';

/** Connections tried for one round (the first included) before the target gives up. */
const ROUND_ATTEMPTS = 5;
const STAGE_SUFFIX = '.stage';

export interface RoundResult {
  /** The state dir's bytes, as the source's manifest says. */
  bytes: number;
  /** What this round carried. */
  moved: number;
  /** The manifest's digest (the last round: of the state installed). */
  digest: string;
}

export class PreCopies {
  private readonly stages = new Map<string, StagedState>();

  constructor(private readonly o: { inbox: string; tls: () => PeerTls; log: Logger }) {}

  /** Staging dirs left by an agent that stopped mid-move: nothing remembers what they hold. */
  async sweep(): Promise<void> {
    const names = await readdir(this.o.inbox).catch(() => [] as string[]);
    for (const n of names)
      if (n.endsWith(STAGE_SUFFIX)) await rm(join(this.o.inbox, n), { recursive: true, force: true });
  }

  /**
   * One round: the source's manifest, then the chunks that differ from what is staged. A dropped
   * connection is tried again (chunks already staged are not asked for twice). With `final`,
   * the staged dir must equal the manifest; `seal` then returns it ready to install.
   */
  async round(s: SyncState, onMoved: (bytes: number) => void): Promise<RoundResult & { stage: StagedState }> {
    if (!/^[A-Za-z0-9-]{8,64}$/.test(s.checkpointId))
      throw new YardError('INVALID_ARGUMENT', `bad checkpoint id "${s.checkpointId}"`);
    const sender = `server ${s.sourceServerId}`;
    let stage = this.stages.get(s.checkpointId);
    if (!stage) {
      stage = new StagedState(join(this.o.inbox, `${s.checkpointId}${STAGE_SUFFIX}`), {
        maxBytes: Number(s.maxBytes),
        sender,
      });
      // A stage this agent does not remember (it restarted) is of no use: start clean.
      await stage.discard();
      this.stages.set(s.checkpointId, stage);
    }
    stage.moved = 0;
    // The last round reports what the target holds of the dir (most of it, staged before the
    // save), so the move's bar fills from there; a round before it reports what it moved.
    let inPlace = 0;
    const reporter = setInterval(() => onMoved(s.final ? inPlace + stage.moved : stage.moved), 250);
    try {
      for (let attempt = 1; ; attempt++) {
        let close = () => {};
        try {
          const src = await fetchStateFromPeer({
            address: s.sourceAddress,
            sourceServerId: s.sourceServerId,
            tls: this.o.tls(),
            secret: s.ticket,
            checkpointId: s.checkpointId,
          });
          close = src.close;
          const manifest = stage.check(src.manifest);
          const wanted = stage.wanted(manifest);
          inPlace = manifest.bytes - bytesOf(manifest, wanted) - stage.moved;
          await stage.apply(src, wanted, s.final);
          const digest = s.final ? await stage.seal(manifest) : '';
          return { bytes: manifest.bytes, moved: stage.moved, digest, stage };
        } catch (caught) {
          close();
          const err = noSpace(caught, sender);
          const fatal = err instanceof YardError && err.code !== 'UNAVAILABLE';
          const unreachable = err instanceof YardError && attempt === 1 && stage.moved === 0;
          if (fatal || unreachable || attempt >= ROUND_ATTEMPTS) {
            if (fatal || unreachable) throw err;
            throw new YardError(
              'UNAVAILABLE',
              `pre-copy from ${sender} broke off ${attempt} times: ${errorMessage(err)}`,
            );
          }
          this.o.log.warn(`pre-copy of ${s.checkpointId} from ${sender} broke off (${errorMessage(err)}); resuming`);
          await new Promise((r) => setTimeout(r, 200 * attempt));
        }
      }
    } finally {
      clearInterval(reporter);
    }
  }

  /** The move no longer needs its stage: installed (the dir was moved away) or rolled back. */
  async drop(checkpointId: string): Promise<void> {
    const stage = this.stages.get(checkpointId);
    this.stages.delete(checkpointId);
    await stage?.discard();
  }
}

/** A full disk is not worth retrying: the move fails at once and says so. */
function noSpace(err: unknown, sender: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return err;
  return new YardError(
    'NO_SPACE',
    `no space left on this agent's disk for the state from ${sender} (${errorMessage(err)}); free space in its data dir or pick another target`,
    { sender },
  );
}

/** The bytes of the chunks asked for. */
function bytesOf(m: Manifest, wanted: Array<[string, number]>): number {
  const sizes = new Map(m.entries.map((e) => [e.path, e.size]));
  let bytes = 0;
  for (const [path, index] of wanted)
    bytes += Math.max(0, Math.min(m.chunkBytes, (sizes.get(path) ?? 0) - index * m.chunkBytes));
  return bytes;
}
