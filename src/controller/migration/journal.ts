import { randomUUID } from 'node:crypto';
import {
  MigrationPhase,
  migrationDone,
  noTimings,
  type Migration,
  type MigrationTimings,
} from '../../core/workload.js';
import type { Store } from '../store.js';

/** What an operator's request decides of a migration. */
export type NewMigration = Pick<
  Migration,
  'workload' | 'sourceServerId' | 'targetServerId' | 'strategy' | 'requestedBy' | 'preflight'
>;

/** What a phase write may change besides the phase; timings merge into those already measured. */
export type JournalPatch = Partial<
  Pick<Migration, 'bytesDone' | 'bytesTotal' | 'checkpointSha256' | 'error' | 'transferPath' | 'precopy'>
> & {
  timings?: Partial<MigrationTimings>;
};

/**
 * Progress is announced at most this often per migration (and always when the last byte is in):
 * agents report a few times a second, and each announcement is a record sent to every watcher
 * (WatchMigration, the dashboard's events). The record itself always holds the latest count.
 */
const PROGRESS_ANNOUNCE_MS = 1000;

/**
 * The only way a migration's record changes. A phase is written to the store (and flushed)
 * before the step it names acts, so a controller that restarts finds how far it got; progress
 * and measurements change the record in memory and are written with the next phase. Every
 * change is announced (`announce`: the coordinator's 'migration' event).
 */
export class Journal {
  /** Records of migrations in flight: what list() and get() show until they end. */
  private readonly live = new Map<string, Migration>();
  /** When each migration in flight last announced its progress. */
  private readonly progressAnnounced = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly announce: (m: Migration) => void,
    private readonly now: () => number = Date.now,
  ) {}

  list(): Migration[] {
    return this.store.migrations().map((m) => this.live.get(m.id) ?? m);
  }

  find(id: string): Migration | undefined {
    return this.live.get(id) ?? this.store.migrations().find((x) => x.id === id || x.id.startsWith(id));
  }

  /** The migration of `workload` in flight, if any. */
  inFlight(workload: string): Migration | undefined {
    for (const m of this.live.values()) if (m.workload === workload) return m;
    return undefined;
  }

  /** A new migration, planned: in flight from here, in the store from its first phase. */
  begin(n: NewMigration): Migration {
    const now = Date.now();
    const m: Migration = {
      ...n,
      id: randomUUID(),
      phase: MigrationPhase.MIGRATION_PHASE_PLANNED,
      createdMs: now,
      updatedMs: now,
      finishedMs: 0,
      timings: noTimings(),
      bytesDone: 0,
      bytesTotal: 0,
      checkpointSha256: '',
      precopy: false,
      error: '',
      transferPath: '',
    };
    this.live.set(m.id, m);
    return m;
  }

  /** The store's records left in flight by a controller that stopped: they are live again. */
  interrupted(): Migration[] {
    const left = this.store.migrations().filter((m) => !migrationDone(m.phase));
    for (const m of left) this.live.set(m.id, m);
    return left;
  }

  async phase(m: Migration, phase: MigrationPhase, patch: JournalPatch = {}): Promise<void> {
    // Shown (list(), watchers) only once it is on disk: whoever saw a phase and then killed the
    // controller must find the same phase after the restart.
    const next = structuredClone(m);
    this.change(next, patch);
    next.phase = phase;
    next.updatedMs = Date.now();
    if (migrationDone(phase)) next.finishedMs = next.updatedMs;
    this.store.putMigration(next);
    await this.store.flush();
    Object.assign(m, next);
    this.store.putMigration(m);
    if (migrationDone(phase)) {
      this.live.delete(m.id);
      this.progressAnnounced.delete(m.id);
    }
    this.announce(m);
  }

  progress(m: Migration, bytesDone: number, bytesTotal: number): void {
    this.change(m, { bytesDone, bytesTotal });
    const now = this.now();
    const last = this.progressAnnounced.get(m.id);
    if (bytesDone < bytesTotal && last !== undefined && now - last < PROGRESS_ANNOUNCE_MS) return;
    this.progressAnnounced.set(m.id, now);
    this.announce(m);
  }

  /** A measurement, written with the next phase. */
  measured(m: Migration, timings: Partial<MigrationTimings>): void {
    this.change(m, { timings });
  }

  private change(m: Migration, { timings, ...rest }: JournalPatch): void {
    Object.assign(m, rest);
    if (timings) m.timings = { ...noTimings(), ...m.timings, ...timings };
  }
}
