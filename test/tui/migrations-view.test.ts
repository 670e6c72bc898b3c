import { afterEach, describe, expect, it, vi } from 'vitest';
import { YardError } from '../../src/core/errors.js';
import { MigrationPhase, MigrationStrategy } from '../../src/core/workload.js';
import { sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

/** Starts trainer-llama's move to the T4 host and takes it into its transfer (25% moved). */
async function liveMigration(fleet: FixtureFleet): Promise<string> {
  const m = await fleet.actions.startMigration(
    'trainer-llama',
    'srv-t4',
    MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
  );
  for (let i = 0; i < 4; i++) fleet.coordinator.advance(m.id);
  return m.id;
}

describe('migrations view', () => {
  it('lists history newest first at 80x24: id, workload, route, phase with a symbol', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('M');
    const text = h.text();
    const lines = text.split('\n');
    expect(lines.every((l) => [...l].length <= 80)).toBe(true);
    expect(lines[0]).toContain('Migrations');
    expect(text).toContain('Migrations (0 live, 3 shown)');
    expect(text).toMatch(/ID +WORKLOAD +FROM → TO +PHASE +TRANSFER/);
    expect(lines[3]).toMatch(/▶ a1b2c3d4 api-gateway +gpu-a100-01 → gpu-t4-03 +✓ committed/);
    expect(lines[4]).toMatch(/e5f6a7b8 trainer-llama +gpu-t4-03 → gpu-a100-01 +↺ rolled back/);
    expect(lines[5]).toMatch(/c9d0e1f2 vector-db +cpu-web-02 → gpu-t4-03 +✗ failed/);
    expect(lines[23]).toMatch(/Enter details +c cancel +\/ filter/);
  });

  it('shows downtime, start and outcome columns at 160x48', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('3');
    const text = h.text();
    expect(text).toMatch(/STRATEGY +PHASE +TRANSFER +PATH +DOWNTIME +STARTED +OUTCOME/);
    expect(text).toMatch(/api-gateway .* restart +✓ committed +none +2h ago ok/);
    expect(text).toMatch(/vector-db .* checkpoint +✗ failed +– +3d ago agent on cpu-web-02 disconnected/);
  });

  it('shows a live migration with its progress bar, and the header counts it', async () => {
    const fleet = sampleFleet();
    const id = await liveMigration(fleet);
    h = openHeadless(fleet, { cols: 80, rows: 24 });
    await h.press('M');
    const text = h.text();
    expect(text).toContain('1 live');
    expect(text).toMatch(
      new RegExp(`▶ ${id.slice(0, 8)} trainer-llama +gpu-a100-01 → gpu-t4-03 +◐ transferring +[█▏▎▍▌▋▊▉░]+ +25%`),
    );
    expect(text.split('\n')[0]).toContain('1 migrating');
  });

  it('Enter shows the details: preflight, timings with bytes and rate, the error; Esc goes back', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('M', 'j', KEY.enter);
    let text = h.text();
    expect(text.split('\n')[0]).toContain('Migrations › e5f6a7b8');
    expect(text).toContain('Migration e5f6a7b8-0000-4000-8000-000000000002');
    expect(text).toMatch(/route +gpu-t4-03 → gpu-a100-01 · checkpoint/);
    expect(text).toMatch(/phase +↺ rolled back · alice, 1d ago · took 21s/);
    expect(text).toMatch(/preflight +✓ target-online/);
    expect(text).toMatch(/✓ exclusive +no other migration of it in flight/);
    expect(text).toMatch(/timings +checkpoint 2\.10 s/);
    expect(text).toMatch(/transfer +11\.5 GiB in 9\.80 s \(1\.2 GiB\/s\)/);
    expect(text).toMatch(/restore +–/);
    expect(text).toMatch(/outcome +↺ rolled back: trainer-llama keeps running on gpu-t4-03/);
    expect(text).toMatch(/error +checksum mismatch on gpu-a100-01: the source was restored/);
    expect(text.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    // j/k step through migrations without leaving the details.
    await h.press('j');
    expect(h.text()).toContain('Migration c9d0e1f2');
    expect(h.text()).toMatch(/moved +40\.0 GiB of 410\.0 GiB/);
    await h.press(KEY.escape);
    text = h.text();
    expect(text).toContain('Migrations (0 live, 3 shown)');
    expect(text).toMatch(/▶ c9d0e1f2/);
  });

  it('shows how a pre-copied move went: rate, path and downtime in the table, rounds and bytes saved in the details', async () => {
    const fleet = sampleFleet();
    const m = await fleet.actions.startMigration(
      'trainer-llama',
      'srv-t4',
      MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      { precopy: true },
    );
    fleet.coordinator.complete(m.id);
    h = openHeadless(fleet, { cols: 120, rows: 40 });
    await h.press('M');
    let text = h.text();
    expect(text).toMatch(/PHASE +TRANSFER +PATH +DOWNTIME +STARTED +OUTCOME/);
    expect(text).toMatch(/▶ 00000001 trainer-llama .* ✓ committed +128M\/s +direct +6\.90 s +0s ago ok/);
    // Without the path, before this work: the rate of the move, and no path.
    expect(text).toMatch(/e5f6a7b8 trainer-llama .* ↺ rolled back +1\.2G\/s +– +1d ago checksum/);
    // Narrower, the downtime stays longer than the path.
    await h.resize(90, 24);
    text = await h.waitFor(/TRANSFER +DOWNTIME +│/);
    expect(text).toMatch(/▶ 00000001 trainer-llama .* ✓ committed +128M\/s +6\.90 s │/);
    await h.resize(80, 24);
    text = await h.waitFor(/TRANSFER\s+│/);
    // At 80 columns the rate stays; the path and the downtime are in the details.
    expect(text).toMatch(/▶ 00000001 trainer-llama +gpu-a100-01 → gpu-t4-03 ✓ committed +128M\/s/);
    expect(text.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    await h.press(KEY.enter);
    text = h.text();
    expect(text).toMatch(/timings +pre-copy +2 rounds: 13\.5 GiB in 6\.00 s \(2\.3 GiB\/s\) while it ran/);
    expect(text).toMatch(/transfer +384\.0 MiB in 3\.00 s \(128\.0 MiB\/s\), agent to agent/);
    expect(text).toMatch(/saved +11\.6 GiB not carried after the save/);
    expect(text).toMatch(/downtime +6\.90 s/);
    expect(text).toMatch(/outcome +✓ committed/);
    expect(text.split('\n').every((l) => [...l].length <= 80)).toBe(true);
  });

  it('shows a pre-copy round under way: its bar in the table, the round in the details', async () => {
    const fleet = sampleFleet();
    const m = await fleet.actions.startMigration(
      'trainer-llama',
      'srv-t4',
      MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
      { precopy: true },
    );
    for (let i = 0; i < 6; i++) fleet.coordinator.advance(m.id);
    h = openHeadless(fleet, { cols: 80, rows: 24 });
    await h.press('M');
    expect(h.text()).toMatch(/▶ 00000001 trainer-llama .* ◐ precopying +[█▏▎▍▌▋▊▉░]+ +50%/);
    await h.press(KEY.enter);
    expect(h.text()).toMatch(/progress +[█▏▎▍▌▋▊▉░]+ +50% 6\.0 GiB of 12\.0 GiB · pre-copy round 2 +│/);
    expect(h.text()).toMatch(/timings +pre-copy +1 round done: 12\.0 GiB so far/);
  });

  it('c cancels a live migration after y, and reports it', async () => {
    const fleet = sampleFleet();
    const id = await liveMigration(fleet);
    h = openHeadless(fleet, { cols: 80, rows: 24 });
    await h.press('M', 'c');
    let text = h.text();
    expect(text).toContain(`Cancel migration ${id.slice(0, 8)} of trainer-llama (transferring)?`);
    expect(text.split('\n')[23]).toMatch(/y yes +n\/Esc no/);
    await h.press(KEY.escape);
    expect(h.text()).not.toContain('Cancel migration');
    expect(fleet.migrations()[0]!.phase).toBe(MigrationPhase.MIGRATION_PHASE_TRANSFERRING);
    await h.press('c', 'y');
    text = await h.waitFor(`Migration ${id.slice(0, 8)}: rolled back.`);
    expect(text).toMatch(/trainer-llama +gpu-a100-01 → gpu-t4-03 +↺ rolled back/);
    expect(text).toContain('0 live');
  });

  it('c on a finished migration says only a live one can be cancelled', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('M', 'c');
    expect(h.text()).not.toContain('Cancel migration');
    expect(h.text().split('\n')[23]).toContain('Migration a1b2c3d4 already ended (committed)');
  });

  it('a cancel the controller refuses shows its message, not a crash', async () => {
    const fleet = sampleFleet();
    await liveMigration(fleet);
    vi.spyOn(fleet.actions, 'cancelMigration').mockRejectedValue(
      new YardError('FAILED_PRECONDITION', 'the migration is committing and can no longer be cancelled'),
    );
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('M', 'c', 'y');
    expect(await h.waitFor('Failed: the migration is committing and can no longer be cancelled')).toContain('1 live');
    expect(h.quits).toBe(0);
  });

  it('filters by workload, server or phase', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('M', '/', ...'failed', KEY.enter);
    const text = h.text();
    expect(text).toContain('vector-db');
    expect(text).not.toContain('api-gateway');
    expect(text).toContain('1 of 3 match');
  });
});
