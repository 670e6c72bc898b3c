import { afterEach, describe, expect, it } from 'vitest';
import type { FleetChange, FleetSource } from '../../src/core/fleet.js';
import { ServerState } from '../../src/core/types.js';
import type { KnownWorkload } from '../../src/core/domain.js';
import { MigrationPhase, WorkloadState, type Workload } from '../../src/core/workload.js';
import { EventLog, EVENTS_KEPT } from '../../src/tui/views/event-log.js';
import { sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const lineWith = (text: string, what: string): string => text.split('\n').find((l) => l.includes(what)) ?? '';

function exited(fleet: FixtureFleet, name: string, exitCode: number): void {
  const w = fleet.workloads().find((x) => x.spec?.name === name)!;
  fleet.putWorkload({ ...w, state: WorkloadState.WORKLOAD_STATE_EXITED, exitCode, pid: 0 });
}

describe('events view', () => {
  it('e shows what happened since the start, newest first: an exit with its code, a server going down, a migration', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('e');
    expect(h.text()).toContain('No events since the dashboard started');
    exited(fleet, 'trainer-llama', 3);
    fleet.setState('srv-t4', ServerState.SERVER_STATE_DOWN, Date.now());
    const m = fleet.migrations()[0]!;
    fleet.putMigration({
      ...m,
      id: 'f00dfeed-1',
      phase: MigrationPhase.MIGRATION_PHASE_TRANSFERRING,
      createdMs: Date.now(),
    });
    fleet.putMigration({
      ...m,
      id: 'f00dfeed-1',
      phase: MigrationPhase.MIGRATION_PHASE_ROLLED_BACK,
      createdMs: Date.now(),
      error: 'target went away',
    });
    const text = await h.waitFor('rolled back');
    const lines = text.split('\n');
    expect(lines[0]).toContain('Events');
    expect(text).toContain('Events (4, newest first)');
    expect(text).toMatch(/TIME +KIND +SUBJECT +WHAT/);
    expect(lineWith(text, 'trainer-llama')).toMatch(
      /\d\d:\d\d:\d\d +workload +trainer-llama +running → exited 3 on gpu-a100-01/,
    );
    expect(lineWith(text, 'gpu-t4-03 ')).toMatch(/server +gpu-t4-03 +online → down/);
    // Newest first: the rollback above its start, both above the exit.
    const at = (what: string) => lines.findIndex((l) => l.includes(what));
    expect(at('rolled back')).toBeLessThan(at('started'));
    expect(at('started')).toBeLessThan(at('exited 3'));
    expect(lineWith(text, 'rolled back')).toContain('target went away');
    expect(lines[29]).toContain('4 events');
  });

  it('Enter opens the server the selected event happened on; Esc comes back', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('e');
    exited(fleet, 'api-gateway', 2);
    await h.waitFor('exited 2');
    expect(h.text().split('\n')[29]).toMatch(/Enter server/);
    await h.press(KEY.enter);
    expect(h.text().split('\n')[0]).toContain('Fleet › gpu-t4-03');
    await h.press(KEY.escape);
    expect(h.text().split('\n')[0]).toContain('Events');
  });

  it('/ filters the events; Esc shows them all again', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('5');
    exited(fleet, 'trainer-llama', 3);
    exited(fleet, 'embedder', 137);
    await h.waitFor('exited 137');
    await h.press('/', ...'embed', KEY.enter);
    let text = h.text();
    expect(text).toContain('exited 137');
    expect(text).not.toContain('exited 3');
    expect(text.split('\n')[29]).toContain('1 of 2 match');
    await h.press(KEY.escape);
    text = h.text();
    expect(text).toContain('exited 137');
    expect(text).toContain('exited 3');
  });

  it('keeps the newest EVENTS_KEPT and says how many older ones it dropped', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('e');
    const w = fleet.workloads().find((x) => x.spec?.name === 'trainer-llama')!;
    for (let i = 1; i <= EVENTS_KEPT + 5; i++)
      fleet.putWorkload({ ...w, state: WorkloadState.WORKLOAD_STATE_EXITED, exitCode: i, pid: 0 } satisfies Workload);
    const text = await h.waitFor(`exited ${EVENTS_KEPT + 5} on`);
    expect(text).toContain(`Events (${EVENTS_KEPT}, newest first)`);
    expect(text.split('\n')[29]).toContain(`${EVENTS_KEPT} kept, 5 older dropped`);
    await h.press('G');
    expect(h.text()).toContain('exited 5 → exited 6');
    expect(h.text()).not.toContain('exited 4 → exited 5');
  });

  it('while the controller is unreachable its stand-ins are not news: one line says it went, one that it is back', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('e');
    fleet.setConnected(false, Date.now());
    for (const { server } of fleet.list()) fleet.setState(server.id, ServerState.SERVER_STATE_UNKNOWN, Date.now());
    fleet.setState('srv-a100', ServerState.SERVER_STATE_ONLINE, Date.now());
    fleet.setConnected(true, Date.now());
    exited(fleet, 'embedder', 1);
    const text = await h.waitFor('exited 1');
    expect(text).toContain('Events (3, newest first)');
    expect(text).toMatch(/controller +127\.0\.0\.1:7400 +unreachable: the views show the fleet as it was/);
    expect(text).toMatch(/controller +127\.0\.0\.1:7400 +reachable again/);
    expect(text).not.toContain('unknown');
  });

  it('is a page of a wall, without a selection', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30, wall: { rotateMs: 60_000, views: ['events', 'fleet'] } });
    exited(fleet, 'trainer-llama', 3);
    const text = await h.waitFor('exited 3');
    expect(text).toContain('Events (1, newest first)');
    expect(text).not.toContain('▶');
  });
});

describe('event log', () => {
  /** A source whose changes the test sends itself: nothing is there at the start. */
  function emptySource(): FleetSource {
    return {
      controllerAddress: '',
      mode: 'attached',
      role: 'admin',
      list: () => [],
      get: () => undefined,
      workloads: () => [],
      migrations: () => [],
      routes: () => [],
      deployments: () => [],
      subscribe: () => () => {},
      actions: {} as FleetSource['actions'],
    };
  }

  it('takes audit entries as they are, a refused one as an alarm', () => {
    const log = new EventLog(emptySource(), () => 0);
    const audit = (ok: boolean): FleetChange => ({
      kind: 'audit',
      entry: {
        atMs: 42,
        who: 'alice',
        action: 'route.weight',
        target: 'web green=30',
        ok,
        error: ok ? '' : 'no route "web"',
      },
    });
    log.observe(audit(true));
    log.observe(audit(false));
    expect(log.list().map((e) => [e.atMs, e.kind, e.subject, e.text, e.alarm])).toEqual([
      [42, 'audit', 'web green=30', 'alice: route.weight failed: no route "web"', true],
      [42, 'audit', 'web green=30', 'alice: route.weight', false],
    ]);
  });

  it('what began before it started is the baseline, however late the source tells it', () => {
    const workloads: KnownWorkload[] = [];
    const log = new EventLog({ ...emptySource(), workloads: () => workloads }, () => 1000);
    const first = sampleFleet().workloads()[0]!;
    const told = (name: string, startedMs: number) => {
      workloads.push({ ...first, spec: { ...first.spec, name }, serverId: 'srv-x', startedMs });
      log.observe({ kind: 'workload', name });
    };
    told('old', 999);
    told('fresh', 1000);
    expect(log.list().map((e) => `${e.subject} ${e.text}`)).toEqual(['fresh running on srv-x (new)']);
  });

  it('is a ring: at most `kept` entries, the oldest dropped first', () => {
    const log = new EventLog(emptySource(), () => 0, 3);
    for (let i = 0; i < 10; i++)
      log.observe({ kind: 'audit', entry: { atMs: i, who: 'w', action: 'a', target: String(i), ok: true, error: '' } });
    expect(log.list().map((e) => e.subject)).toEqual(['9', '8', '7']);
    expect(log.total).toBe(10);
  });
});
