import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MigrationPhase as P, MigrationStrategy, migrationPhases, type Migration } from '../../src/core/workload.js';
import { Journal } from '../../src/controller/migration/journal.js';
import { Store } from '../../src/controller/store.js';

function migration(id: string): Migration {
  return {
    id,
    workload: 'counter',
    sourceServerId: 'server-a',
    targetServerId: 'server-b',
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    phase: P.MIGRATION_PHASE_PLANNED,
    requestedBy: 'ops',
    createdMs: Date.now(),
    updatedMs: Date.now(),
    finishedMs: 0,
    preflight: [],
    timings: { transferBytes: 0 },
    bytesDone: 0,
    bytesTotal: 0,
    checkpointSha256: '',
    error: '',
  };
}

/** A journal over a real store file, and what it announced. */
async function journalIn(file: string) {
  const store = await Store.open({ file });
  const announced: string[] = [];
  const journal = new Journal(store, (m) => announced.push(`${migrationPhases.name(m.phase)} ${m.bytesDone}`));
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
    const m = migration('11111111-aaaa');
    await journal.open(m);
    expect(migrationPhases.name((await onDisk(file, m.id))!.phase)).toBe('preflight');
    expect(journal.inFlight('counter')).toBe(m);

    await journal.phase(m, P.MIGRATION_PHASE_TRANSFERRING, { bytesTotal: 100, checkpointSha256: 'ab12', timings: { checkpointMs: 40, transferBytes: 100 } });
    journal.progress(m, 50, 100);
    journal.measured(m, { transferMs: 70 });
    // Progress and measurements are announced or kept in memory; the file has the last phase.
    expect((await onDisk(file, m.id))!.bytesDone).toBe(0);
    expect(journal.find('11111111')!.bytesDone).toBe(50);

    await journal.phase(m, P.MIGRATION_PHASE_RESTORING);
    const written = (await onDisk(file, m.id))!;
    expect(migrationPhases.name(written.phase)).toBe('restoring');
    expect(written.bytesDone).toBe(50);
    expect(written.checkpointSha256).toBe('ab12');
    expect(written.timings).toEqual({ checkpointMs: 40, transferBytes: 100, transferMs: 70 });
    expect(announced).toEqual(['preflight 0', 'transferring 0', 'transferring 50', 'restoring 50']);
  });

  it('ends a migration with its finish time and lets go of it; a later controller finds the ones left in flight', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'yard-journal-')), 'store.json');
    const { journal } = await journalIn(file);
    const done = migration('22222222-bbbb');
    const left = { ...migration('33333333-cccc'), workload: 'trainer' };
    await journal.open(done);
    await journal.open(left);
    await journal.phase(left, P.MIGRATION_PHASE_VERIFYING);
    await journal.phase(done, P.MIGRATION_PHASE_ROLLED_BACK, { error: 'cancelled by an operator' });
    expect(journal.inFlight('counter')).toBeUndefined();
    const ended = (await onDisk(file, done.id))!;
    expect(ended.finishedMs).toBeGreaterThan(0);
    expect(ended.error).toBe('cancelled by an operator');

    const restarted = await journalIn(file);
    expect(restarted.journal.inFlight('trainer')).toBeUndefined();
    expect(restarted.journal.interrupted().map((m) => `${m.id} ${migrationPhases.name(m.phase)}`)).toEqual(['33333333-cccc verifying']);
    expect(restarted.journal.inFlight('trainer')?.id).toBe(left.id);
    expect(restarted.journal.list().map((m) => m.id).sort()).toEqual([done.id, left.id]);
  });
});
