// Pre-copy (issue 13) with real agents: the counter's 96 MB pad (its "weights", written once and
// left alone) is copied to the target while the job runs; after the checkpoint signal only its
// small state.json moves. The target checks every chunk, the job resumes from the checked state
// (it verifies the pad's sha256 itself), and the record says what pre-copy did and saved.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationPhases } from '../../src/core/workload.js';
import { fleet, type Fleet, moveCounter, startMove } from '../helpers/move-fleet.js';
import { waitFor } from '../helpers/procs.js';

const MB = 1024 * 1024;

/** Staging dirs a target agent holds in its inbox. */
function stages(agentDir: string): string[] {
  const inbox = join(agentDir, 'inbox');
  return existsSync(inbox) ? readdirSync(inbox).filter((n) => n.endsWith('.stage')) : [];
}

describe('pre-copy: the state dir moves while the workload runs', () => {
  let f: Fleet;
  beforeAll(async () => {
    f = await fleet();
  }, 60_000);
  afterAll(async () => {
    f?.api.close();
    await Promise.all((f?.procs ?? []).map((p) => p.stop()));
  });

  it('is on by itself above 64 MiB: only what changed moves after the signal, and the job resumes checked', {
    timeout: 120_000,
  }, async () => {
    const m = await startMove(f, 'weights-job', 96);
    const done = await f.api.waitForMigrationEnd(m.id, 100_000);
    expect(migrationPhases.name(done.phase), done.error).toBe('committed');
    expect(done.precopy).toBe(true);
    expect(done.transferPath).toBe('direct');
    const t = done.timings!;
    expect(t.precopyRounds).toBeGreaterThanOrEqual(1);
    expect(t.precopyBytes).toBeGreaterThanOrEqual(96 * MB);
    // After the signal: state.json (the primes found so far), not the pad.
    expect(t.transferBytes).toBeLessThan(4 * MB);
    expect(t.bytesSaved).toBeGreaterThanOrEqual(96 * MB);
    expect(done.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await f.api.logs('weights-job')).toMatch(/resumed at n=\d+/);
    // The staging dir became the state dir: nothing left in the target's inbox.
    expect(stages(f.agentDirs.b)).toEqual([]);
  });

  it('is off with precopy=false: the whole checkpoint moves after the signal', { timeout: 120_000 }, async () => {
    const done = await moveCounter(f, 'whole-job', 72, { precopy: false });
    expect(migrationPhases.name(done.phase), done.error).toBe('committed');
    expect(done.precopy).toBe(false);
    expect(done.timings!.precopyRounds).toBe(0);
    expect(done.timings!.transferBytes).toBeGreaterThan(72 * MB);
    expect(await f.api.logs('whole-job')).toMatch(/resumed at n=\d+/);
  });

  it('is off by itself for a small state, and on when asked for', { timeout: 120_000 }, async () => {
    const small = await moveCounter(f, 'small-job', 4);
    expect(migrationPhases.name(small.phase), small.error).toBe('committed');
    expect(small.precopy).toBe(false);
    const asked = await moveCounter(f, 'asked-job', 4, { precopy: true });
    expect(migrationPhases.name(asked.phase), asked.error).toBe('committed');
    expect(asked.precopy).toBe(true);
    expect(asked.timings!.transferBytes).toBeLessThan(4 * MB);
    expect(await f.api.logs('asked-job')).toMatch(/resumed at n=\d+/);
  });

  it('cancelled mid-pre-copy: the job never stopped, and the target drops what it staged', {
    timeout: 120_000,
  }, async () => {
    const m = await startMove(f, 'cancel-job', 400, { precopy: true });
    await f.api.waitForPhase(m.id, 'precopying', 60_000);
    await f.api.call(f.api.client.cancelMigration, { id: m.id });
    const done = await f.api.waitForMigrationEnd(m.id, 60_000);
    expect(['rolled_back', 'failed']).toContain(migrationPhases.name(done.phase));
    const live = await f.api.liveInstances('cancel-job');
    expect(live).toHaveLength(1);
    // It kept running where it was: no checkpoint, no restore.
    const logs = await f.api.logs('cancel-job');
    expect(logs).not.toMatch(/checkpoint at n=/);
    expect(logs).not.toMatch(/resumed at/);
    await waitFor('the stage dropped', async () => (stages(f.agentDirs.b).length === 0 ? true : undefined), 20_000);
  });
});
