// The wall's cards at the sizes walls are: they use the screen, name the GPUs, turn red and come
// first when a host is in trouble, never show a silent host's numbers as current; Space holds
// the page and n turns it.
import { afterEach, describe, expect, it } from 'vitest';
import { ServerState } from '../../src/core/types.js';
import { UNICODE_GLYPHS } from '../../src/tui/glyphs.js';
import { loadTheme } from '../../src/tui/theme.js';
import { wallCardLines } from '../../src/tui/widgets/wall-card.js';
import {
  feed,
  largeFleet,
  makeSample,
  makeServer,
  sampleFleet,
  type FixtureFleet,
  type HostSpec,
} from './fleet-fixture.js';
import { sampleRoutes } from './fixture-routes.js';
import { openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const lines = (h: Headless): string[] => h.text().split('\n');
const footer = (h: Headless): string => lines(h).at(-1)!;
const wall = (rotateMs = 60_000, views: ('fleet' | 'workloads' | 'migrations' | 'routes')[] = ['fleet']) => ({
  rotateMs,
  views,
});

const BROKEN: HostSpec = { id: 'srv-broken', name: 'gpu-broken-09', labels: { gpu: 'h100' }, cores: 32 };
const NO_DRIVER =
  "nvidia-smi (/usr/bin/nvidia-smi) failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

/** A host whose nvidia-smi cannot reach its driver, as its agent reports it (the controller calls it degraded). */
function addBroken(fleet: FixtureFleet, now: number): void {
  fleet.add(makeServer({ ...BROKEN, state: ServerState.SERVER_STATE_DEGRADED }, now));
  feed(fleet, BROKEN, 10, now - 1000);
  fleet.record(BROKEN.id, {
    ...makeSample(BROKEN, 10, now),
    gpuStatus: { state: 'failing', sinceMs: now - 125_000, message: NO_DRIVER },
  });
}

describe('wall cards', () => {
  it('fill a 160x48 screen: four hosts take the rows, the 8-GPU host shows its model and every GPU', () => {
    h = openHeadless(largeFleet(4), { cols: 160, rows: 48, wall: wall() });
    const rows = lines(h);
    // Two by two, with digits of the second size (5 rows) even on the cards with three numbers.
    expect(rows[1]!.match(/┌─/g)).toHaveLength(2);
    expect(rows.filter((row) => /CPU % +MEM % +GPU x8 %/.test(row))).toHaveLength(1);
    const at = rows.findIndex((row) => /CPU % +MEM % +GPU x8 %/.test(row));
    expect(rows.slice(at + 1, at + 6).every((row) => /[█▀▄]/.test(row) && !row.includes('░'))).toBe(true);
    const boxed = rows.slice(1, -1).filter((row) => /[│┌└]/.test(row)).length;
    expect(boxed).toBeGreaterThanOrEqual(44);
    expect(h.text()).toContain('GPU 8× H100 80GB HBM3');
    expect(h.text()).toMatch(/G7 /);
  });

  it('draw bigger digits when there is room', () => {
    h = openHeadless(largeFleet(1), { cols: 160, rows: 48, wall: wall() });
    // Scale 1 digits are 3 rows of 3 columns; here "100"-sized numbers get 6+ columns a character.
    const digitRows = lines(h).filter((row) => /██████/.test(row)).length;
    expect(digitRows).toBeGreaterThan(3);
  });

  it('put a host in trouble first, red throughout, with what fails and since when', () => {
    const now = Date.now();
    const fleet = sampleFleet(now);
    addBroken(fleet, now);
    h = openHeadless(fleet, { cols: 160, rows: 48, wall: wall() });
    const text = h.text();
    const first = text.indexOf('✖ ');
    // Both hosts in trouble (the disconnected one, the broken one) come before the healthy ones.
    expect(text.indexOf('gpu-a100-01')).toBeGreaterThan(text.indexOf('✖ cpu-web-02'));
    expect(text.indexOf('gpu-a100-01')).toBeGreaterThan(text.indexOf('✖ gpu-broken-09'));
    expect(first).toBeLessThan(text.indexOf('gpu-a100-01'));
    expect(text).toMatch(/GPU ✖ nvidia-smi failing for 2m/);
    expect(text).toMatch(/│ couldn't communicate with the NVIDIA driver +│/);
    const look = { theme: loadTheme('high-contrast'), glyphs: UNICODE_GLYPHS };
    const red = `{${look.theme.states.down}-fg}`;
    const broken = fleet.get(BROKEN.id)!;
    const card = wallCardLines(broken, 60, 12, now, look);
    for (const line of card.slice(0, 4)) expect(line).toContain(red);
    // A healthy host's state and captions are not red (its numbers are coloured by their level).
    const healthy = wallCardLines(fleet.get('srv-a100')!, 60, 12, now, look);
    for (const line of healthy.slice(0, 3)) expect(line).not.toContain(red);
  });

  it('never show a silent host\'s numbers as current: "?" with the last value and its age', () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48, wall: wall() });
    expect(h.text()).toMatch(/CPU \d+% · 42s ago/);
    expect(h.text()).toContain('▀▀█');
  });

  it('say which hosts are cordoned or drained', async () => {
    const fleet = sampleFleet();
    await fleet.actions.cordonServer('srv-t4', true);
    h = openHeadless(fleet, { cols: 160, rows: 48, wall: wall() });
    expect(h.text()).toMatch(/● ONLINE +⊘ cordoned/);
  });

  it('say nothing is known online while the controller is unreachable', () => {
    const now = Date.now();
    const fleet = sampleFleet(now);
    h = openHeadless(fleet, { cols: 160, rows: 48, wall: wall() });
    expect(lines(h)[0]).toContain('2/3 online');
    fleet.setConnected(false, now - 40_000);
    h.dashboard.renderNow();
    expect(lines(h)[0]).toContain('3 servers, none known online');
  });

  it('pause on Space (and say so), and turn at once on n', async () => {
    h = openHeadless(sampleFleet(), { cols: 120, rows: 40, wall: wall(300, ['fleet', 'migrations']) });
    await h.press(' ');
    expect(footer(h)).toContain('PAUSED: Space resumes, n next');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(lines(h)[0]).toContain('Fleet');
    await h.press('n');
    expect(lines(h)[0]).toContain('Migrations');
    expect(footer(h)).toContain('PAUSED');
    await h.press(' ');
    expect(footer(h)).toMatch(/next: fleet in \ds/);
    await h.waitFor(/│ Fleet │/);
  });
});

describe('wall pages of workloads and routes', () => {
  it('show their counts in big digits over a table without a cursor', () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48, wall: wall(60_000, ['workloads']) });
    const text = h.text();
    expect(lines(h)[1]).toMatch(/RUNNING +RESTARTING +EXITED +MIGRATING/);
    // "4" running, at a size read across a room: more than the three rows of the smallest digits.
    expect(lines(h).filter((row) => /^ ████ {4}████ /.test(row)).length).toBeGreaterThan(3);
    expect(text).toContain('trainer-llama');
    expect(text).not.toContain('▶');
  });

  it('routes: services, healthy and failing backends, connections; no cursor', () => {
    const fleet = sampleFleet();
    fleet.routeTable.load(sampleRoutes(), 60);
    h = openHeadless(fleet, { cols: 160, rows: 48, wall: wall(60_000, ['routes']) });
    expect(lines(h)[1]).toMatch(/SERVICES +HEALTHY +FAILING +CONNECTIONS/);
    expect(h.text()).toContain('Routes (');
    expect(h.text()).not.toContain('▶');
  });
});
