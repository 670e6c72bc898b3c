import { afterEach, describe, expect, it, vi } from 'vitest';
import { YardError } from '../../src/core/errors.js';
import { sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { sampleRoutes } from './fixture-routes.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

/** The sample fleet with its routes, each with a minute of proxy reports. */
function routedFleet(): FixtureFleet {
  const fleet = sampleFleet();
  fleet.routeTable.load(sampleRoutes(), 60);
  return fleet;
}

const fits = (text: string, cols: number): boolean => text.split('\n').every((l) => [...l].length <= cols);
const footer = (h: Headless): string => h.text().split('\n').at(-1)!;
const SPARK = /[▁▂▃▄▅▆▇█]{6,}/;

// Rows, in order: db, 10.0.4.20:5432, 10.0.4.21:5432, metrics-…, vector-db, web, api-blue, api-green.
describe('routes view', () => {
  it('renders each service and its backends at 80x24: bars, health words, sparklines, nothing over the width', async () => {
    h = openHeadless(routedFleet(), { cols: 80, rows: 24 });
    await h.press('R');
    const text = h.text();
    const lines = text.split('\n');
    expect(lines).toHaveLength(24);
    expect(fits(text, 80)).toBe(true);
    expect(lines[0]).toContain('Routes');
    expect(text).toContain('Routes (3 services, 5 backends)');
    expect(text).toMatch(/BACKEND +VERSION +WEIGHT +HEALTH +CONN +RATE +TRAFFIC/);
    expect(text).toMatch(/▶ ✓ db +gpu-a100-01:5432 +least-connections +\d+ conn +2 refused +[\d.]+MB\/s/);
    expect(text).toMatch(/10\.0\.4\.20:5432 +v1 +██████ 100 ✓ healthy/);
    expect(text).toMatch(/10\.0\.4\.21:5432 +v2 +░░░░░░ +0 ▽ draining/);
    expect(text).toMatch(/◐ web +gpu-a100-01:8080 +weighted/);
    expect(text).toMatch(new RegExp(`api-blue@gpu-a1… +blue +████[▊▋]░ +80 ✓ healthy .*${SPARK.source}`));
    expect(text).toMatch(new RegExp(`api-green@gpu-t… +green +█[▎▏▍]░{4} +20 ◐ degraded .*${SPARK.source}`));
    // A name longer than the line is cut with an ellipsis, not wrapped.
    expect(text).toMatch(/✗ metrics-collector-for-the-whole-east-region +cpu-web-02:9100 +weighted/);
    expect(text).toMatch(/vector-db +v1 +██████ 100 – unknown/);
    expect(lines[23]).toMatch(/= weight +p promote +u rollback +d drain/);
    expect(lines[23]).toContain('1 of 8');
  });

  it('shows a healthy backend at weight 0 as a standby passing its checks, not as draining', async () => {
    const fleet = sampleFleet();
    const routes = sampleRoutes();
    const db = routes.find((r) => r.name === 'db')!;
    db.backends[1] = { ...db.backends[1]!, address: '10.0.4.22:5432', drain: false };
    fleet.routeTable.load(routes, 60);
    h = openHeadless(fleet, { cols: 80, rows: 24 });
    await h.press('R');
    const text = h.text();
    expect(text).toMatch(/10\.0\.4\.22:5432 +v2 +░░░░░░ +0 ✓ standby/);
    expect(text).not.toContain('draining');
  });

  it('shows totals, notes, errors and a promotion in progress at 160x48', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    await h.press(':', ...'routes', KEY.enter);
    let text = h.text();
    expect(fits(text, 160)).toBe(true);
    expect(text).toMatch(/CONN +TOTAL +RATE +TRAFFIC +NOTE/);
    expect(text).toMatch(
      new RegExp(
        `api-blue@gpu-a100-01 +blue .* ✓ healthy +\\d+ +1\\d{3} +[\\d.]+MB/s ${SPARK.source}.* 10\\.0\\.4\\.17:9000`,
      ),
    );
    expect(text).toMatch(
      /metrics-collector-for-the-whole-east-region +cpu-web-02:9100 +weighted +proxy cpu-web-02 is disconnected/,
    );
    expect(text).toMatch(/vector-db .*workload vector-db is not running/);
    // A promotion under way shows its step on the service's line.
    fleet.routeTable.promoting('web', 'promoting green: 25% (step 2 of 4)');
    text = await h.waitFor('promoting green');
    expect(text).toMatch(
      /◐ web +gpu-a100-01:8080 +weighted +\d+ conn +0 refused +[\d.]+[kM]B\/s +promoting green: 25% \(step 2 of 4\)/,
    );
  });

  it('j/k move across services and backends; Enter opens the server a backend runs on', async () => {
    h = openHeadless(routedFleet(), { cols: 120, rows: 30 });
    await h.press('4', 'j');
    expect(h.text()).toMatch(/▶ +10\.0\.4\.20:5432/);
    await h.press('j', 'j');
    expect(h.text()).toMatch(/▶ ✗ metrics-collector/);
    expect(footer(h)).toContain('4 of 8');
    await h.press('G', 'k');
    expect(h.text()).toMatch(/▶ +api-blue@gpu-a100-01/);
    await h.press(KEY.enter);
    expect(h.text().split('\n')[0]).toContain('Fleet › gpu-a100-01');
    await h.press(KEY.escape, '4');
    // The selection outlives switching views.
    expect(h.text()).toMatch(/▶ +api-blue@gpu-a100-01/);
  });

  it('= asks for a weight, then to confirm, and sets it on the selected version', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('R', 'G', '=');
    expect(footer(h)).toContain('weight of green on web (0-100, now 20): _');
    await h.press('3', '5', KEY.backspace, '0');
    expect(footer(h)).toContain('weight of green on web (0-100, now 20): 30_');
    await h.press(KEY.enter);
    expect(h.text()).toContain('Set the weight of green on web to 30 (now 20)?');
    expect(footer(h)).toMatch(/y yes +n\/Esc no/);
    expect(fleet.routeTable.calls).toEqual([]);
    await h.press('y');
    const text = await h.waitFor('web: blue 80, green 30 (rev 4)');
    expect(fleet.routeTable.calls).toEqual([{ action: 'setRouteWeights', args: ['web', { green: 30 }] }]);
    expect(text).toMatch(/api-green@gpu-t4-03 +green +█+[▏▎▍▌▋▊▉]?░+ +30 /);
  });

  it('= refuses a weight out of 0-100 in the footer, and does nothing on a service line or on Esc', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('R', 'G', '=', '1', '5', '0', KEY.enter);
    expect(footer(h)).toContain('The weight must be a whole number from 0 to 100, not "150": = asks again.');
    expect(h.text()).not.toContain('Set the weight');
    await h.press('=', 'x', KEY.enter);
    expect(footer(h)).toContain('not "x"');
    await h.press('=', '5', KEY.escape);
    expect(footer(h)).not.toContain('weight of green');
    await h.press('g', '=');
    expect(footer(h)).toContain('Select a backend of db (j) first: = sets the weight of its version.');
    await h.press('=', '5', KEY.enter, 'n');
    expect(fleet.routeTable.calls).toEqual([]);
  });

  it('p confirms the steps, promotes the selected version and reports how it ended', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('R', 'G', 'p');
    // Green takes 20% now: the steps below it (5) would cut its traffic first, so they are skipped.
    expect(h.text()).toMatch(/Promote green on web in steps 25,50,100 every 10s\?/);
    await h.press('y');
    expect(await h.waitFor('web: green takes all the traffic of web')).toMatch(
      /api-green@gpu-t4-03 +green +██████ 100/,
    );
    expect(fleet.routeTable.calls).toEqual([
      { action: 'promoteRoute', args: ['web', 'green', { steps: [25, 50, 100], intervalMs: 10_000 }] },
    ]);
  });

  it('a promotion the health gate reverts shows why, not a crash', async () => {
    const fleet = routedFleet();
    vi.spyOn(fleet.actions, 'promoteRoute').mockRejectedValue(
      new YardError('PROMOTION_REVERTED', 'promotion of green halted: api-green@gpu-t4-03 failed its health checks'),
    );
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('R', 'G', 'p', 'y');
    await h.waitFor('Failed: promotion of green halted: api-green@gpu-t4-03 failed its health checks');
    expect(h.quits).toBe(0);
  });

  it('u rolls the selected service back after y; a service without an earlier table says so', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('R', 'G', 'u');
    expect(h.text()).toContain('Roll web back to its table before the last change (rev 3, by');
    expect(h.text()).toContain('alice)?');
    await h.press('y');
    await h.waitFor('Failed: web has no earlier table: `yard route delete web` removes it');
    await fleet.actions.setRouteWeights('web', { blue: 50, green: 50 });
    await h.press('u', 'y');
    await h.waitFor('web rolled back: blue 80, green 20 (rev 5)');
    expect(fleet.routeTable.calls.filter((c) => c.action === 'rollbackRoute')).toEqual([
      { action: 'rollbackRoute', args: ['web'] },
      { action: 'rollbackRoute', args: ['web'] },
    ]);
  });

  it('d drains the selected backend after y, and only a backend', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('R', 'G', 'k', 'd');
    expect(h.text()).toContain('Drain api-blue@gpu-a100-01 on web?');
    await h.press('n');
    expect(fleet.routeTable.calls).toEqual([]);
    await h.press('d', 'y');
    const text = await h.waitFor('Draining api-blue on web: blue 0, green 20 (rev 4)');
    expect(text).toMatch(/api-blue@gpu-a100-01 +blue +░{6} +0 /);
    expect(fleet.routeTable.calls).toEqual([{ action: 'drainBackend', args: ['web', 'api-blue', undefined] }]);
    await h.press('k', 'd');
    expect(footer(h)).toContain('Select a backend of web (j) first: d drains it.');
  });

  it('a read-only dashboard refuses =, p, u and d, and says so', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30, readonly: true });
    await h.press('R', 'G');
    for (const [key, name] of [
      ['=', 'set-weight'],
      ['p', 'promote'],
      ['u', 'rollback'],
      ['d', 'drain'],
    ] as const) {
      await h.press(key);
      expect(footer(h)).toContain(`read-only: ${key} (${name}) is off on this dashboard`);
      expect(h.text()).not.toContain('Are you sure?');
    }
    expect(footer(h)).not.toMatch(/= weight|p promote/);
    expect(fleet.routeTable.calls).toEqual([]);
  });

  it('a wall shows the routes without a selection and refuses the keys', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30, wall: { rotateMs: 60_000, views: ['routes'] } });
    const text = h.text();
    expect(text).toContain('Routes (3 services, 5 backends)');
    expect(text).toMatch(SPARK);
    expect(text).not.toContain('▶');
    await h.press('=', 'y');
    expect(fleet.routeTable.calls).toEqual([]);
  });

  it('follows the routing table live: a removed service goes, a filter narrows it', async () => {
    const fleet = routedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('R');
    fleet.routeTable.remove('db');
    await h.waitFor('Routes (2 services, 3 backends)');
    await h.press('/', ...'green', KEY.enter);
    const text = h.text();
    expect(text).toContain('api-green@gpu-t4-03');
    expect(text).not.toContain('metrics-collector');
    expect(footer(h)).toContain('1 of 2 match');
  });

  it('draws with ASCII glyphs where the terminal has no Unicode', async () => {
    h = openHeadless(routedFleet(), { cols: 80, rows: 24, ascii: true });
    await h.press('R');
    const text = h.text();
    expect(fits(text, 80)).toBe(true);
    expect(text).toMatch(/10\.0\.4\.20:5432 +v1 +###### 100 \+ healthy +\d+ +[\d.]+MB\/s [_.\-=+*#@]{6,}/);
    expect(text).not.toMatch(/[█▁▂▃▄▅▆▇✓◐]/);
  });

  it('says how to create a route when there is none', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('R');
    expect(h.text()).toContain('No routes yet: `yard route apply -f web.yaml` creates one.');
    await h.press('=');
    expect(footer(h)).toContain('No route here');
  });
});

describe('fleet view route pane', () => {
  it('lists a line per service under the cards at 160x48 and 80x24', () => {
    for (const [cols, rows] of [
      [160, 48],
      [80, 24],
    ] as const) {
      h = openHeadless(routedFleet(), { cols, rows });
      const text = h.text();
      const lines = text.split('\n');
      expect(fits(text, cols)).toBe(true);
      const top = lines.findIndex((l) => l.includes('Routes (3)'));
      expect(top).toBeGreaterThan(rows - 8);
      expect(lines[top + 1]).toMatch(/db :5432 v1 100 ███ v2 0 \d+ conn [\d.]+MB\/s ✓/);
      expect(lines[top + 2]).toMatch(/metrics-collector-for-the-whole-east-region :9100 v1 100 ███ ✗/);
      expect(lines[top + 3]).toMatch(/web :8080 blue 80 ██[▍▌] green 20 [▋▌] \d+ conn [\d.]+MB\/s ◐/);
      expect(text).toContain('cpu-web-02');
      h.close();
      h = undefined;
    }
  });

  it('says how many more there are past four services, and hides when there is no room or no route', async () => {
    const fleet = sampleFleet();
    fleet.routeTable.load(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((name, i) => ({
        ...sampleRoutes()[0]!,
        name: `svc-${name}`,
        listen: { server: 'srv-a100', port: 8000 + i, host: '' },
      })),
      3,
    );
    h = openHeadless(fleet, { cols: 120, rows: 40 });
    let text = h.text();
    expect(text).toContain('Routes (6)');
    expect(text).toMatch(/svc-c :8002/);
    expect(text).not.toMatch(/svc-d :8003/);
    expect(text).toContain('+3 more: R shows every route');
    await h.resize(70, 17);
    await h.settle();
    h.dashboard.renderNow();
    text = h.text();
    expect(text).not.toContain('Routes (6)');
    expect(text).toContain('cpu-web-02');
    h.close();
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    expect(h.text()).not.toContain('Routes (');
  });
});
