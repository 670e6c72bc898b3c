import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MigrationPhase as P,
  MigrationStrategy,
  migrationPhases,
  noTimings,
  type Migration,
} from '../../src/core/workload.js';
import { Journal, type NewMigration } from '../../src/controller/migration/journal.js';
import { Store } from '../../src/controller/store.js';

/** What an operator asks: move a workload from server-a to server-b. */
const move = (workload: string): NewMigration => ({
  workload,
  sourceServerId: 'server-a',
  targetServerId: 'server-b',
  strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
  requestedBy: 'ops',
  preflight: [],
});

/** A journal over a real store file, and what it announced. */
async function journalIn(file: string, now?: () => number) {
  const store = await Store.open({ file });
  const announced: string[] = [];
  const journal = new Journal(store, (m) => announced.push(`${migrationPhases.name(m.phase)} ${m.bytesDone}`), now);
  return { store, journal, announced };
}

/** The record as a controller that starts now would read it from the file. */
async function onDisk(file: string, id: string): Promise<Migration | undefined> {
  return (await Store.open({ file })).migrations().find((m) => m.id === id);
}

describe('the migration journal: the only writer of a migration record', () => {
  it('writes each phase to the store file before it is announced, with what the step measured', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'yard-journal-')), 'store.json');
    const { journal, announced } = await journalIn(file);
    const m = journal.begin(move('counter'));
    expect(journal.find(m.id)).toBe(m);
    expect(await onDisk(file, m.id)).toBeUndefined();
    await journal.phase(m, P.MIGRATION_PHASE_PREFLIGHT);
    expect(migrationPhases.name((await onDisk(file, m.id))!.phase)).toBe('preflight');
    expect(journal.inFlight('counter')).toBe(m);

    await journal.phase(m, P.MIGRATION_PHASE_TRANSFERRING, {
      bytesTotal: 100,
      checkpointSha256: 'ab12',
      timings: { checkpointMs: 40, transferBytes: 100 },
    });
    journal.progress(m, 50, 100);
    journal.measured(m, { transferMs: 70 });
    // Progress and measurements are announced or kept in memory; the file has the last phase.
    expect((await onDisk(file, m.id))!.bytesDone).toBe(0);
    expect(journal.find(m.id.slice(0, 8))!.bytesDone).toBe(50);

    await journal.phase(m, P.MIGRATION_PHASE_RESTORING);
    const written = (await onDisk(file, m.id))!;
    expect(migrationPhases.name(written.phase)).toBe('restoring');
    expect(written.bytesDone).toBe(50);
    expect(written.checkpointSha256).toBe('ab12');
    expect(written.timings).toEqual({ ...noTimings(), checkpointMs: 40, transferBytes: 100, transferMs: 70 });
    expect(announced).toEqual(['preflight 0', 'transferring 0', 'transferring 50', 'restoring 50']);
  });

  it('announces progress at most once a second, and the last byte always; the record holds every count', async () => {
    let clock = 1_000_000;
    const { journal, announced } = await journalIn(
      join(mkdtempSync(join(tmpdir(), 'yard-journal-')), 'store.json'),
      () => clock,
    );
    const m = journal.begin(move('counter'));
    await journal.phase(m, P.MIGRATION_PHASE_TRANSFERRING, { bytesTotal: 100 });
    // An agent reporting every 250 ms.
    for (const done of [10, 20, 30, 40, 50, 60, 70]) {
      journal.progress(m, done, 100);
      expect(journal.find(m.id)!.bytesDone).toBe(done);
      clock += 250;
    }
    journal.progress(m, 100, 100);
    expect(announced).toEqual(['transferring 0', 'transferring 10', 'transferring 50', 'transferring 100']);
  });

  it('ends a migration with its finish time and lets go of it; a later controller finds the ones left in flight', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'yard-journal-')), 'store.json');
    const { journal } = await journalIn(file);
    const done = journal.begin(move('counter'));
    const left = journal.begin(move('trainer'));
    await journal.phase(done, P.MIGRATION_PHASE_PREFLIGHT);
    await journal.phase(left, P.MIGRATION_PHASE_VERIFYING);
    await journal.phase(done, P.MIGRATION_PHASE_ROLLED_BACK, { error: 'cancelled by an operator' });
    expect(journal.inFlight('counter')).toBeUndefined();
    const ended = (await onDisk(file, done.id))!;
    expect(ended.finishedMs).toBeGreaterThan(0);
    expect(ended.error).toBe('cancelled by an operator');

    const restarted = await journalIn(file);
    expect(restarted.journal.inFlight('trainer')).toBeUndefined();
    expect(restarted.journal.interrupted().map((m) => `${m.id} ${migrationPhases.name(m.phase)}`)).toEqual([
      `${left.id} verifying`,
    ]);
    expect(restarted.journal.inFlight('trainer')?.id).toBe(left.id);
    expect(
      restarted.journal
        .list()
        .map((m) => m.id)
        .sort(),
    ).toEqual([done.id, left.id].sort());
  });
});
