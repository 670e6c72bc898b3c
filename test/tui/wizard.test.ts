import { afterEach, describe, expect, it, vi } from 'vitest';
import { YardError } from '../../src/core/errors.js';
import { SCORE_HELP, targetScore } from '../../src/core/target-score.js';
import { MigrationPhase, MigrationStrategy, WorkloadState } from '../../src/core/workload.js';
import { HOSTS, sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

/** The modal's rows: what lies between its top and bottom borders. */
function modal(text: string): string {
  const lines = text.split('\n');
  const top = lines.findIndex((l) => l.includes('Migrate '));
  return lines.slice(top, top + 24).join('\n');
}

/** Opens the Workloads view at 80x24, selects trainer-llama and presses m. */
async function wizardFor(fleet: FixtureFleet, name = 'trainer-llama'): Promise<Headless> {
  h = openHeadless(fleet, { cols: 80, rows: 24 });
  await h.press('w');
  const below = fleet.workloads().findIndex((w) => w.spec?.name === name);
  await h.press(...Array.from({ length: below }, () => 'j'));
  expect(h.text()).toContain(`▶ ${name}`);
  await h.press('v');
  await h.waitFor('Move it to');
  return h;
}

function liveMigration(fleet: FixtureFleet): string {
  const live = fleet
    .migrations()
    .find((m) => m.phase !== MigrationPhase.MIGRATION_PHASE_COMMITTED && m.finishedMs === 0);
  expect(live).toBeDefined();
  return live!.id;
}

describe('migration wizard', () => {
  it('goes from the Workloads view through every step to a committed result with timings', async () => {
    const fleet = sampleFleet();
    h = await wizardFor(fleet);
    // Target: the T4 host fits; the disconnected web host is shown with its reason and cannot be chosen.
    let screen = await h.waitFor('hosts can take it');
    expect(screen).toContain('Migrate trainer-llama');
    expect(screen).toContain('▶ target');
    // The controller's score (the number `yard migrate --dry-run` prints), and what it means.
    // A host that passes every check has no reasons beside its score, as the controller ranks it.
    expect(screen).toMatch(new RegExp(`▶ gpu-t4-03 +score ${targetScore(fleet.get(HOSTS.t4.id)!.server)} +│$`, 'm'));
    expect(screen.replace(/[│\s]+/g, ' ')).toContain(SCORE_HELP);
    expect(screen).toMatch(/ {3}cpu-web-02 +✗ +cpu-web-02 is not online \(disconnected\)/);
    await h.press('j', 'j');
    expect(h.text()).toMatch(/▶ gpu-t4-03/);
    expect(h.text()).not.toMatch(/▶ cpu-web-02/);
    // Strategy: the workload's own (checkpoint) comes selected.
    await h.press(KEY.enter);
    screen = h.text();
    expect(screen).toContain('How should it move?');
    expect(screen).toMatch(/▶ checkpoint +the workload's own/);
    expect(screen).toContain('gpu-a100-01 → gpu-t4-03');
    // Preflight: every check passes.
    await h.press(KEY.enter);
    screen = await h.waitFor('Every check passed');
    for (const check of ['target-online', 'strategy', 'disk', 'gpu-memory', 'cpu', 'exclusive'])
      expect(screen).toMatch(new RegExp(`✓ ${check}`));
    expect(screen).toMatch(/✓ disk +519\.0 GiB free on gpu-t4-03, 40\.8 GiB needed/);
    expect(screen).toMatch(/✓ gpu-memory +15360 MiB free on its emptiest GPU, 12288 MiB needed/);
    // Confirm: a summary, then y starts it.
    await h.press(KEY.enter);
    screen = h.text();
    expect(screen).toContain('Start this migration?');
    expect(screen).toMatch(/to +gpu-t4-03 \(score \d+\)/);
    expect(screen.split('\n')[23]).toMatch(/y\/Enter start +n\/Esc back/);
    await h.press('y');
    screen = await h.waitFor('▶ progress');
    const id = liveMigration(fleet);
    expect(screen).toMatch(/▶ planned/);
    // Progress: checkpointing, then the transfer with bytes, rate and ETA.
    fleet.coordinator.advance(id);
    fleet.coordinator.advance(id);
    screen = await h.waitFor(/▶ checkpointing/);
    expect(screen).toMatch(/✓ preflight/);
    expect(screen).toMatch(/downtime so far/);
    fleet.coordinator.advance(id);
    fleet.coordinator.advance(id);
    fleet.coordinator.advance(id);
    screen = await h.waitFor('6.0 GiB of 12.0 GiB');
    expect(screen).toMatch(/✓ checkpointing +1\.80 s/);
    expect(screen).toMatch(/▶ transferring +6\.0 GiB of 12\.0 GiB/);
    expect(screen).toMatch(/[█▏▎▍▌▋▊▉]+░+ +50% +6\.0 GiB of 12\.0 GiB/);
    expect(screen).toMatch(/rate 2\.0 GiB\/s · ETA 3\.00 s · downtime so far \d/);
    expect(screen).toMatch(/· restoring/);
    // Result: committed, with every timing.
    fleet.coordinator.complete(id);
    screen = await h.waitFor('committed: trainer-llama now runs on gpu-t4-03');
    expect(screen).toContain('▶ result');
    expect(screen).toMatch(/checkpoint +1\.80 s/);
    expect(screen).toMatch(/transfer +12\.0 GiB in 6\.00 s \(2\.0 GiB\/s\)/);
    expect(screen).toMatch(/restore +2\.10 s/);
    expect(screen).toMatch(/verify +900 ms/);
    expect(screen).toMatch(/downtime +9\.90 s/);
    expect(screen.split('\n')[23]).toContain('Enter/Esc close');
    // Closing shows the Workloads view again, the workload on its new host.
    await h.press(KEY.enter);
    expect(h.text()).not.toContain('Migrate trainer-llama');
    expect(h.text()).toMatch(/trainer-llama +gpu-t4-03/);
  });

  it('p on confirm asks for pre-copy: the progress shows its rounds, the result what it saved and the path', async () => {
    const fleet = sampleFleet();
    const start = vi.spyOn(fleet.actions, 'startMigration');
    h = await wizardFor(fleet);
    await h.waitFor('hosts can take it');
    await h.press(KEY.enter, KEY.enter);
    await h.waitFor('Every check passed');
    await h.press(KEY.enter);
    let screen = h.text();
    expect(screen).toMatch(/pre-copy +auto: on when the state dir is larger than 64 MiB \(p changes\)/);
    expect(screen.split('\n')[23]).toMatch(/y\/Enter start +n\/Esc back +p pre-copy/);
    await h.press('p');
    expect(h.text()).toMatch(/pre-copy +on: copied while it runs; only what changed moves after the save/);
    await h.press('p');
    expect(h.text()).toMatch(/pre-copy +off: the whole state moves after the save/);
    await h.press('p', 'p');
    expect(h.text()).toMatch(/pre-copy +on: /);
    await h.press('y');
    await h.waitFor('▶ progress');
    expect(start).toHaveBeenCalledWith('trainer-llama', 'srv-t4', MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT, {
      precopy: true,
    });
    const id = liveMigration(fleet);
    // Preflight, then the first round halfway through the state dir while the workload runs.
    for (let i = 0; i < 3; i++) fleet.coordinator.advance(id);
    screen = await h.waitFor(/▶ precopying +round 1: 6\.0 GiB of 12\.0 GiB · it still runs/);
    expect(screen).toMatch(/✓ preflight\s/);
    expect(screen).toMatch(/· checkpointing/);
    expect(screen).toMatch(/[█▏▎▍▌▋▊▉]+░+ +50% +6\.0 GiB of 12\.0 GiB/);
    expect(screen).toMatch(/rate 4\.0 GiB\/s · ETA – · no downtime yet/);
    // The second round counts from zero again, with a rate of its own.
    for (let i = 0; i < 2; i++) fleet.coordinator.advance(id);
    screen = await h.waitFor(/▶ precopying +round 2: 0 B of 12\.0 GiB/);
    expect(screen).toMatch(/rate – · ETA –/);
    // Saved: the pre-copy step says how long, how many rounds and what it moved.
    for (let i = 0; i < 3; i++) fleet.coordinator.advance(id);
    screen = await h.waitFor(/▶ checkpointing/);
    expect(screen).toMatch(/✓ precopying +6\.00 s · 2 rounds, 13\.5 GiB/);
    // The last round's rate is not the save's: none until the transfer moves.
    expect(screen).toMatch(/rate – · ETA – · downtime so far \d/);
    fleet.coordinator.complete(id);
    screen = await h.waitFor('committed: trainer-llama now runs on gpu-t4-03');
    expect(screen).toMatch(/pre-copy +2 rounds: 13\.5 GiB in 6\.00 s \(2\.3 GiB\/s\) while it ran/);
    expect(screen).toMatch(/transfer +384\.0 MiB in 3\.00 s \(128\.0 MiB\/s\), agent to agent/);
    expect(screen).toMatch(/saved +11\.6 GiB not carried after the save/);
    expect(screen).toMatch(/downtime +6\.90 s/);
    expect(screen.split('\n').every((l) => [...l].length <= 80)).toBe(true);
  });

  it('leaves pre-copy to the controller unless asked, and says it is for the checkpoint strategy only', async () => {
    const fleet = sampleFleet();
    const start = vi.spyOn(fleet.actions, 'startMigration');
    h = await wizardFor(fleet);
    await h.waitFor('hosts can take it');
    await h.press(KEY.enter, 'j', KEY.enter);
    await h.waitFor('Every check passed');
    await h.press(KEY.enter);
    expect(h.text()).toMatch(/strategy +restart/);
    expect(h.text()).toMatch(/pre-copy +not for the restart strategy/);
    await h.press('p');
    expect(h.text()).toContain('Pre-copy applies to the checkpoint strategy only, not restart.');
    await h.press(KEY.escape, KEY.escape, 'k', KEY.enter);
    await h.waitFor('Every check passed');
    await h.press(KEY.enter, 'y');
    await h.waitFor('▶ progress');
    expect(start).toHaveBeenLastCalledWith('trainer-llama', 'srv-t4', MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT, {
      precopy: undefined,
    });
    // Unasked, the fixture's coordinator moves the state once, after the save.
    expect(h.text()).not.toContain('precopying');
  });

  it('blocks confirming when a preflight check fails, and says why', async () => {
    const fleet = sampleFleet();
    h = await wizardFor(fleet, 'vector-db');
    await h.waitFor('hosts can take it');
    // Meanwhile the A100 host's data dir fills up: vector-db (22 GiB resident, a fifth more to be safe) no longer fits.
    fleet.record(HOSTS.a100.id, { ...fleet.get(HOSTS.a100.id)!.server.latest!, dataFreeBytes: 16 * 1024 ** 3 });
    await h.press(KEY.enter, KEY.enter);
    const screen = await h.waitFor('confirming is disabled');
    expect(screen).toMatch(/✗ disk +16\.0 GiB free on gpu-a100-01, 26\.4 GiB needed/);
    expect(screen).toContain('1 check failed (disk)');
    await h.press(KEY.enter);
    expect(h.text()).toContain('▶ preflight');
    expect(h.text()).not.toContain('Start this migration?');
    expect(h.text()).toContain('Cannot go on: disk failed. Esc to choose another target or strategy.');
  });

  it('says when no host can take the workload', async () => {
    h = await wizardFor(sampleFleet(), 'embedder');
    const screen = await h.waitFor('No host can take it now');
    expect(screen).toMatch(/gpu-t4-03 +✗ +15360 MiB free on its emptiest GPU, 40960 MiB/);
    await h.press(KEY.enter);
    expect(h.text()).toContain('No host can take this workload: Esc goes back.');
  });

  it('shows a cordoned host as cordoned, and it cannot be chosen', async () => {
    const fleet = sampleFleet();
    fleet.get(HOSTS.t4.id)!.server.cordoned = true;
    h = await wizardFor(fleet);
    const screen = await h.waitFor('No host can take it now');
    expect(screen).toMatch(/gpu-t4-03 +✗ +gpu-t4-03 is cordoned: it takes no new work/);
    await h.press('j', 'j', KEY.enter);
    expect(h.text()).toContain('No host can take this workload: Esc goes back.');
  });

  it('Esc steps back one step, and closes on the first', async () => {
    h = await wizardFor(sampleFleet());
    await h.waitFor('hosts can take it');
    await h.press(KEY.enter, KEY.enter);
    await h.waitFor('Every check passed');
    await h.press(KEY.escape);
    expect(h.text()).toContain('How should it move?');
    await h.press('j', KEY.enter);
    await h.waitFor(/strategy +gpu-t4-03 supports restart/);
    await h.press(KEY.escape, KEY.escape);
    expect(h.text()).toContain('Move it to');
    await h.press(KEY.escape);
    expect(h.text()).not.toContain('Migrate trainer-llama');
    expect(h.text()).toContain('Workloads (5)');
  });

  it('cancels during progress after asking, and shows the rollback', async () => {
    const fleet = sampleFleet();
    h = await wizardFor(fleet);
    await h.waitFor('hosts can take it');
    await h.press(KEY.enter, KEY.enter);
    await h.waitFor('Every check passed');
    await h.press(KEY.enter, 'y');
    await h.waitFor('▶ progress');
    const id = liveMigration(fleet);
    fleet.coordinator.advance(id);
    fleet.coordinator.advance(id);
    await h.waitFor(/▶ checkpointing/);
    await h.press('c');
    expect(h.text()).toContain('Cancel migration 00000001 of trainer-llama?');
    await h.press('n');
    expect(h.text()).not.toContain('Cancel migration');
    expect(fleet.migrations()[0]!.phase).toBe(MigrationPhase.MIGRATION_PHASE_CHECKPOINTING);
    await h.press('c', 'y');
    const screen = await h.waitFor('rolled back: trainer-llama keeps running on gpu-a100-01');
    expect(screen).toContain('↺ rolled back');
    expect(screen).toContain('cancelled by operator');
    expect(screen).toMatch(/checkpoint +–/);
    expect(fleet.workloads().find((w) => w.spec?.name === 'trainer-llama')!.serverId).toBe('srv-a100');
  });

  it('Esc during progress only hides the wizard: the migration goes on and shows in Migrations', async () => {
    const fleet = sampleFleet();
    h = await wizardFor(fleet);
    await h.waitFor('hosts can take it');
    await h.press(KEY.enter, KEY.enter);
    await h.waitFor('Every check passed');
    await h.press(KEY.enter, 'y');
    await h.waitFor('▶ progress');
    await h.press(KEY.escape);
    expect(h.text()).not.toContain('▶ progress');
    const id = liveMigration(fleet);
    for (let i = 0; i < 4; i++) fleet.coordinator.advance(id);
    await h.press('M');
    const screen = await h.waitFor(
      /00000001 trainer-llama +gpu-a100-01 → gpu-t4-03 +◐ transferring +[█▏▎▍▌▋▊▉░]+ +25%/,
    );
    expect(screen).toContain('1 live');
    expect(screen.split('\n')[0]).toContain('1 migrating');
  });

  it('shows an action that fails in the modal instead of throwing', async () => {
    const fleet = sampleFleet();
    vi.spyOn(fleet.actions, 'startMigration').mockRejectedValue(
      new YardError('UNAVAILABLE', 'agent on gpu-t4-03 is not connected: check yard agent on that host'),
    );
    h = await wizardFor(fleet);
    await h.waitFor('hosts can take it');
    await h.press(KEY.enter, KEY.enter);
    await h.waitFor('Every check passed');
    await h.press(KEY.enter, 'y');
    const screen = await h.waitFor('✗ agent on gpu-t4-03 is not connected');
    expect(screen).toContain('▶ confirm');
    expect(h.quits).toBe(0);
  });

  it(':migrate NAME opens the wizard for it; :migrate alone lists workloads to pick from', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press(':', ...'migrate vector-db', KEY.enter);
    expect(modal(await h.waitFor('hosts can take it'))).toContain('Migrate vector-db');
    await h.press(KEY.escape);
    await h.press(':', ...'migrate', KEY.enter);
    let screen = h.text();
    expect(screen).toContain('Which workload?');
    expect(screen).toMatch(/▶ api-gateway +gpu-t4-03 +● running +restart/);
    expect(screen).toContain('▶ workload');
    await h.press('j', 'j', 'j', KEY.enter);
    screen = await h.waitFor('hosts can take it');
    expect(screen).toContain('Migrate trainer-llama');
    await h.press(KEY.escape);
    expect(h.text()).toContain('Which workload?');
  });

  it(':migrate with an unknown name says so in the footer', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press(':', ...'migrate nope', KEY.enter);
    expect(h.text()).not.toContain('Migrate ');
    expect(h.text().split('\n')[23]).toContain('No workload named "nope"');
  });

  it('the server view migrates the workload chosen in its pane', async () => {
    const fleet = sampleFleet();
    fleet.putWorkload({
      ...fleet.workloads().find((w) => w.spec?.name === 'embedder')!,
      state: WorkloadState.WORKLOAD_STATE_PAUSED,
    });
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    await h.press('l', KEY.enter);
    let screen = h.text();
    expect(screen).toContain('Workloads (2) Tab to choose');
    expect(screen).toMatch(/embedder +‖ paused/);
    expect(screen).toMatch(/trainer-llama +● running/);
    await h.press(KEY.tab, 'j');
    screen = h.text();
    expect(screen).toMatch(/▶ trainer-llama/);
    expect(screen.split('\n')[47]).toContain('v migrate');
    await h.press('v');
    expect(modal(await h.waitFor('hosts can take it'))).toContain('Migrate trainer-llama');
  });

  it('v on the server view without choosing takes its first workload', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('G', KEY.enter, 'v');
    expect(await h.waitFor('hosts can take it')).toContain('Migrate api-gateway');
  });

  it('reads in ASCII without colour, and follows a resize', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48, ascii: true, noColor: true });
    await h.press(':', ...'migrate trainer-llama', KEY.enter);
    let screen = await h.waitFor('hosts can take it');
    expect(screen).toContain('[target] > strategy > preflight');
    expect(screen).toMatch(/> gpu-t4-03 +score \d+/);
    expect(screen).toMatch(/cpu-web-02 +x +cpu-web-02 is not online \(disconnected\)/);
    const top = screen.split('\n').find((l) => l.includes('Migrate trainer-llama'))!;
    expect(top.indexOf('┌')).toBeGreaterThan(20);
    await h.resize(80, 24);
    screen = await h.waitFor(/^┌─ Migrate trainer-llama/m);
    expect(screen.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    expect(screen).toMatch(/> gpu-t4-03 +score \d+/);
  });
});
