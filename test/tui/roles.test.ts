// The dashboard of a caller whose role cannot change the fleet (a viewer: the NOC wall's
// credential): the keys that would change it stay in sight, greyed out, and pressing one says
// which role it needs instead of acting. The controller refuses them anyway; this is the
// dashboard saying so first.
import { afterEach, describe, expect, it } from 'vitest';
import { sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { sampleRoutes } from './fixture-routes.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const footer = (h: Headless): string => h.text().split('\n').at(-1)!;

type Cell = [number, string];
/** The foreground colour number of a cell (0x1ff: the terminal's own). */
function fg(h: Headless, x: number, y: number): number {
  const attr = (h.dashboard.screen as unknown as { lines: Cell[][] }).lines[y]![x]![0];
  return (attr >> 9) & 0x1ff;
}

/** The foreground colour of a footer hint ("v migrate"), read from its first cell. */
function hintColour(h: Headless, hint: string): number {
  const lines = h.text().split('\n');
  const x = lines.at(-1)!.indexOf(hint);
  expect(x, `"${hint}" in the footer`).toBeGreaterThanOrEqual(0);
  return fg(h, x, lines.length - 1);
}

function viewerFleet(): FixtureFleet {
  const fleet = sampleFleet();
  fleet.routeTable.load(sampleRoutes(), 60);
  fleet.role = 'viewer';
  return fleet;
}

describe('a viewer', () => {
  it('sees the keys that change the fleet greyed out, and the role in the header', async () => {
    const fleet = viewerFleet();
    h = openHeadless(fleet, { cols: 140, rows: 30 });
    expect(h.text().split('\n')[0]).toContain('(embedded, viewer)');
    await h.press('w');
    expect(footer(h)).toMatch(/v migrate +t logs +s stop/);
    const normal = hintColour(h, 't logs');
    expect(hintColour(h, 'v migrate')).not.toBe(normal);
    expect(hintColour(h, 's stop')).toBe(hintColour(h, 'v migrate'));
    await h.press('R');
    expect(footer(h)).toMatch(/= weight +p promote +u rollback +d drain/);
    expect(hintColour(h, 'p promote')).toBe(hintColour(h, 'd drain'));
    expect(hintColour(h, 'p promote')).not.toBe(hintColour(h, 'q quit'));
  });

  it('is told which role a key needs instead of it acting, and the fleet is left alone', async () => {
    const fleet = viewerFleet();
    h = openHeadless(fleet, { cols: 140, rows: 30 });
    await h.press('w', 'v');
    expect(footer(h)).toContain('viewer: v (migrate) needs the operator role');
    expect(h.text()).not.toContain('Migrate ');
    await h.press('s');
    expect(footer(h)).toContain('viewer: s (stop-workload) needs the operator role');
    expect(h.text()).not.toContain('Stop ');
    await h.press('\x12');
    expect(footer(h)).toContain('viewer: C-r (restart-workload) needs the operator role');
    await h.press('M', 'c');
    expect(footer(h)).toContain('viewer: c (cancel-migration) needs the operator role');
    await h.press('R', 'j', '=');
    expect(footer(h)).toContain('viewer: = (set-weight) needs the operator role');
    await h.press('p');
    expect(footer(h)).toContain('viewer: p (promote) needs the operator role');
    await h.press(':', ...'migrate trainer-llama', KEY.enter);
    expect(footer(h)).toContain('viewer: :migrate needs the operator role');
    expect(fleet.workloadActions.calls).toEqual([]);
    expect(fleet.routeTable.calls).toEqual([]);
    // Looking around still works: views, filters, following a workload's output.
    await h.press('w', 't');
    expect(fleet.workloadActions.calls).toEqual([{ action: 'followLogs', name: expect.any(String) }]);
  });

  it('finds the greyed-out keys in help too, with the role they need', async () => {
    h = openHeadless(viewerFleet(), { cols: 160, rows: 180 });
    await h.press('?');
    const text = h.text();
    expect(text).toContain(
      'Your role is viewer: the keys and commands greyed out change the fleet, and need the operator role; an admin grants it.',
    );
    expect(text).toMatch(/v +move \(migrate\) the selected workload.*\(needs the operator role\)/s);
    expect(text).toMatch(
      /:migrate \[WORKLOAD\] +open the migration wizard for WORKLOAD, or pick one \(needs the operator role\)/,
    );
    expect(text).toMatch(/:theme \[THEME\] +switch to THEME/);
    expect(text).not.toMatch(/:theme \[THEME\].*needs the operator role/);
  });

  it('gets the keys back when the controller says the role is operator (an attached dashboard learns it late)', async () => {
    const fleet = viewerFleet();
    h = openHeadless(fleet, { cols: 140, rows: 30 });
    await h.press('w');
    const greyed = hintColour(h, 'v migrate');
    fleet.setRole('operator');
    await h.settle();
    h.dashboard.renderNow();
    expect(hintColour(h, 'v migrate')).not.toBe(greyed);
    expect(hintColour(h, 'v migrate')).toBe(hintColour(h, 't logs'));
    expect(h.text().split('\n')[0]).not.toContain('viewer');
    await h.press('v');
    expect(await h.waitFor(/Migrate \S+/)).not.toContain('needs the operator role');
  });

  it('says so whole at 80x24, where help wraps its note', async () => {
    h = openHeadless(viewerFleet(), { cols: 80, rows: 24 });
    await h.press('w', 'v');
    expect(footer(h)).toMatch(/^ viewer: v \(migrate\) needs the operator role /);
    await h.press('?');
    expect(h.text()).toMatch(/Your role is viewer: .*\n.*operator role; an admin grants it\./);
  });
});

describe('an operator', () => {
  it('has every key of the dashboard, none greyed out', async () => {
    const fleet = viewerFleet();
    fleet.role = 'operator';
    h = openHeadless(fleet, { cols: 140, rows: 30 });
    await h.press('w');
    expect(hintColour(h, 'v migrate')).toBe(hintColour(h, 't logs'));
    await h.press('s');
    expect(h.text()).toContain('Stop ');
  });
});
