// What an operator does at the keyboard beyond the views: read-only mode, rebound keys, the
// command line's history and arguments, live theme switching, and the filters.
import { afterEach, describe, expect, it } from 'vitest';
import { CommandLine, HISTORY_SIZE } from '../../src/tui/command-line.js';
import { commandTable } from '../../src/tui/commands.js';
import { filterProblem, textFilter } from '../../src/tui/filter.js';
import { KEYMAP, withKeys } from '../../src/tui/keymap.js';
import { VIEWS } from '../../src/tui/views/index.js';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const footer = (h: Headless): string => h.text().split('\n').at(-1)!;

type Cell = [number, string];
/** The foreground and background colour numbers of a cell (0x1ff: the terminal's own). */
function colours(h: Headless, x: number, y: number): { fg: number; bg: number } {
  const attr = (h.dashboard.screen as unknown as { lines: Cell[][] }).lines[y]![x]![0];
  return { fg: (attr >> 9) & 0x1ff, bg: attr & 0x1ff };
}

describe('read-only', () => {
  it('refuses migrate and cancel with a footer note, and says so in the header', async () => {
    h = openHeadless(sampleFleet(), { cols: 120, rows: 30, readonly: true });
    expect(h.text().split('\n')[0]).toContain('(embedded, read-only)');
    expect(footer(h)).toContain('[read-only]');
    await h.press('w');
    expect(footer(h)).not.toContain('v migrate');
    await h.press('v');
    expect(footer(h)).toContain('read-only: v (migrate) is off on this dashboard');
    expect(h.text()).not.toContain('Migrate ');
    await h.press('M', 'c');
    expect(footer(h)).toContain('read-only: c (cancel-migration) is off');
    expect(h.text()).not.toContain('Are you sure?');
    await h.press(':', ...'migrate vector-db', KEY.enter);
    expect(footer(h)).toContain('read-only: :migrate is off on this dashboard');
    // Looking around still works.
    await h.press('f', '/', ...'t4', KEY.enter);
    expect(h.text()).toContain('gpu-t4-03');
    expect(h.text()).not.toContain('gpu-a100-01');
  });

  it('help leaves out what is off, and says why', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 150, readonly: true });
    await h.press('?');
    const text = h.text();
    expect(text).toContain('Read-only: keys and commands that change the fleet are off.');
    expect(text).not.toContain('migrate the selected workload');
    expect(text).not.toContain(':migrate [WORKLOAD]');
    expect(text).toContain(':theme [THEME]');
  });
});

describe('keys from the config file', () => {
  it('rebound keys work, the old ones do not, and help and the footer show them', async () => {
    const keymap = withKeys(KEYMAP, { quit: ['C-q'], help: ['f1'] });
    h = openHeadless(sampleFleet(), { cols: 120, rows: 150, keymap });
    expect(footer(h)).toMatch(/f1 help +C-q quit/);
    await h.press('q');
    expect(h.quits).toBe(0);
    await h.press('\x1bOP');
    expect(h.text()).toMatch(/any view +C-q +quit +│/);
    expect(h.text()).toMatch(/f1 +show or hide this help/);
    await h.press(KEY.escape, '\x11');
    expect(h.quits).toBe(1);
  });
});

describe('command line', () => {
  it('Up and Down walk the history, newest first, back to the line being typed', async () => {
    h = openHeadless(sampleFleet(), { cols: 100, rows: 24 });
    await h.press(':', ...'workloads', KEY.enter, ':', ...'migrations', KEY.enter);
    await h.press(':', ...'fl', KEY.up);
    expect(footer(h)).toContain(':migrations_');
    await h.press(KEY.up);
    expect(footer(h)).toContain(':workloads_');
    await h.press(KEY.up);
    expect(footer(h)).toContain(':workloads_');
    await h.press(KEY.down, KEY.down);
    expect(footer(h)).toContain(':fl_');
    await h.press(KEY.up, KEY.up, KEY.enter);
    expect(h.text()).toContain('Workloads (5)');
  });

  it('keeps a bounded history without repeats', () => {
    const cl = new CommandLine(commandTable(VIEWS), () => []);
    for (let i = 0; i < HISTORY_SIZE + 20; i++) {
      cl.clear();
      for (const ch of `server n${i}`) cl.type(ch);
      cl.remember();
      cl.remember();
    }
    cl.clear();
    cl.recall(1);
    expect(cl.text).toBe(`server n${HISTORY_SIZE + 19}`);
    cl.recall(1000);
    expect(cl.text).toBe('server n20');
  });

  it(':server NAME opens a server, Tab completes its name, an unknown one says so', async () => {
    h = openHeadless(sampleFleet(), { cols: 120, rows: 40 });
    await h.press(':', ...'server gpu-t', KEY.tab);
    expect(footer(h)).toContain(':server gpu-t4-03_');
    await h.press(KEY.enter);
    expect(h.text()).toContain('Fleet › gpu-t4-03');
    await h.press(':', ...'server nope', KEY.enter);
    expect(footer(h)).toContain('No server named "nope": :server then Tab lists them.');
    expect(h.text()).toContain('Fleet › gpu-t4-03');
  });

  it(':theme NAME switches colours at once; Tab lists the themes; a bad one says why', async () => {
    h = openHeadless(sampleFleet(), { cols: 120, rows: 30 });
    // The default theme's header: black on cyan.
    expect(colours(h, 2, 0)).toEqual({ fg: 0, bg: 6 });
    await h.press(':', ...'theme ', KEY.tab);
    expect(footer(h)).toContain('default  high-contrast  light  mono');
    await h.press(...'l', KEY.tab, KEY.enter);
    expect(footer(h)).toContain('theme light');
    expect(colours(h, 2, 0)).toEqual({ fg: 7, bg: 4 });
    await h.press(':', ...'theme mono', KEY.enter);
    expect(colours(h, 2, 0)).toEqual({ fg: 0x1ff, bg: 0x1ff });
    await h.press(':', ...'theme solarized', KEY.enter);
    expect(footer(h)).toContain('theme "solarized" not found');
    await h.press(':', ...'theme', KEY.enter);
    expect(footer(h)).toContain('theme in force: mono');
  });
});

describe('filters', () => {
  const row = (names: string[], labels: Record<string, string> = {}) => ({ names, labels });

  it('plain words, label=value and /regex/', () => {
    expect(textFilter('a100')(row(['gpu-a100-01']))).toBe(true);
    expect(textFilter('gpu=a1')(row(['x'], { gpu: 'a100' }))).toBe(true);
    expect(textFilter('gpu=t4')(row(['x'], { gpu: 'a100' }))).toBe(false);
    expect(textFilter('/^gpu-(a100|t4)-0[13]$/')(row(['gpu-t4-03']))).toBe(true);
    expect(textFilter('/^gpu-(a100|t4)-0[13]$/')(row(['gpu-t4-02']))).toBe(false);
    expect(textFilter('/zone=us-east/')(row(['x'], { zone: 'us-east-1a' }))).toBe(true);
    // A regex that does not compile is matched as text, and the footer says so.
    expect(textFilter('/gpu-(/')(row(['gpu-(x']))).toBe(true);
    expect(filterProblem('/gpu-(/')).toBe('not a valid regex: matched as text');
    expect(filterProblem('/gpu/')).toBeUndefined();
  });

  it('a /regex/ filters the fleet on screen', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('/', ...'/-0[13]$/', KEY.enter);
    const text = h.text();
    expect(text).toContain('gpu-a100-01');
    expect(text).toContain('gpu-t4-03');
    expect(text).not.toContain('cpu-web-02');
    expect(footer(h)).toContain('filter "/-0[13]$/" (Esc clears)');
    await h.press(KEY.escape, '/', ...'/(/', KEY.enter);
    expect(footer(h)).toContain('(not a valid regex: matched as text; Esc clears)');
  });
});
