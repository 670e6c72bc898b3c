// Wall mode headless: pages turning, big cards, nothing but q and help taken from the keyboard,
// and the banner while the controller is unreachable. The pty suite runs it against a real
// controller that goes away and comes back.
import { afterEach, describe, expect, it } from 'vitest';
import { UNICODE_GLYPHS } from '../../src/tui/glyphs.js';
import { bigText } from '../../src/tui/render/big-digits.js';
import { clock } from '../../src/tui/widgets/header.js';
import { largeFleet, sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const lines = (h: Headless): string[] => h.text().split('\n');
const footer = (h: Headless): string => lines(h).at(-1)!;

describe('wall mode', () => {
  it("draws big cards: state, CPU, memory and the GPUs' mean, large; no selection", () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 30, wall: { rotateMs: 60_000, views: ['fleet'] } });
    const text = h.text();
    expect(lines(h)[0]).toContain('(embedded, wall)');
    expect(text).toContain('● ONLINE');
    expect(text).toMatch(/○ DISCONNECTED +last seen \d+s ago/);
    expect(text).toMatch(/CPU % +MEM % +GPU x4 %/);
    expect(text).not.toContain('▶');
    // Three cards side by side at 160 columns, each number three rows of half blocks.
    expect(lines(h)[1]!.match(/┌─/g)).toHaveLength(3);
    // Big digits, the "%" in the caption.
    expect(text).toContain(bigText('8', UNICODE_GLYPHS)[0]!);
    expect(footer(h)).toMatch(/^ \[wall · next: fleet in \d+s\] \? help +q quit/);
  });

  it('turns through the views on its timer', async () => {
    h = openHeadless(sampleFleet(), { cols: 120, rows: 30, wall: { rotateMs: 150, views: ['fleet', 'migrations'] } });
    expect(lines(h)[0]).toContain('Fleet');
    expect(footer(h)).toContain('next: migrations in');
    await h.waitFor('Migrations (0 live, 3 shown)');
    expect(footer(h)).toContain('next: fleet in');
    await h.waitFor('GPU x4');
  });

  it('turns every page of the fleet before the next view', async () => {
    h = openHeadless(largeFleet(6), { cols: 80, rows: 24, wall: { rotateMs: 100, views: ['fleet', 'workloads'] } });
    expect(footer(h)).toContain('next: page 2/3');
    expect(h.text()).toContain('node-0000');
    await h.waitFor(/node-0002[\s\S]*node-0003/);
    await h.waitFor('node-0005');
    await h.waitFor('Workloads (0)');
    await h.waitFor('node-0000');
  });

  it('keeps the same widgets turn after turn: nothing piles up over a long run', async () => {
    h = openHeadless(largeFleet(7), { cols: 160, rows: 24, wall: { rotateMs: 250, views: ['fleet', 'migrations'] } });
    const nodes = (node: { children: unknown[] }): number =>
      node.children.reduce<number>((n, child) => n + 1 + nodes(child as { children: unknown[] }), 0);
    const screen = h.dashboard.screen as unknown as { children: unknown[] };
    // One full round (the fleet's two pages, then migrations), then two more.
    await h.waitFor('node-0006');
    await h.waitFor('Migrations (');
    await h.waitFor('node-0000');
    const afterOneRound = nodes(screen);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(nodes(screen)).toBe(afterOneRound);
  });

  it('takes no input but help and quit, and says so', async () => {
    h = openHeadless(sampleFleet(), { cols: 120, rows: 40, wall: { rotateMs: 60_000, views: ['fleet', 'workloads'] } });
    await h.press('/');
    expect(footer(h)).toContain('wall display: / (filter) is off on this dashboard');
    await h.press(':', 'w');
    expect(footer(h)).toContain('wall display: w/2 (show-workloads) is off');
    expect(lines(h)[0]).toContain('Fleet');
    await h.press('?');
    expect(h.text()).toContain('Wall display: read-only, no prompts; the pages turn on their own.');
    expect(h.text()).toContain('Space pauses or resumes them');
    expect(h.text()).not.toContain('filter by name');
    await h.press(KEY.escape, 'q');
    expect(h.quits).toBe(1);
  });

  it('shows the unreachable banner with the time it was lost, until the controller is back', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30, wall: { rotateMs: 60_000, views: ['fleet'] } });
    expect(lines(h)[1]).toMatch(/^┌/);
    const since = Date.now() - 90_000;
    fleet.setConnected(false, since);
    h.dashboard.renderNow();
    expect(lines(h)[1]).toContain(`controller unreachable since ${clock(since)} (1m ago) — reconnecting…`);
    // The view moved down a line to make room; nothing is drawn over.
    expect(lines(h)[2]).toMatch(/^┌/);
    expect(footer(h)).toContain('[wall');
    fleet.setConnected(true, Date.now());
    h.dashboard.renderNow();
    expect(h.text()).not.toContain('unreachable');
    expect(lines(h)[1]).toMatch(/^┌/);
  });

  it('the banner shows on an ordinary attached dashboard too, in ASCII where it must', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 100, rows: 24, ascii: true });
    fleet.setConnected(false, Date.now() - 5000);
    h.dashboard.renderNow();
    expect(lines(h)[1]).toMatch(/controller unreachable since \d\d:\d\d:\d\d \(5s ago\) - reconnecting\.\.\./);
  });

  it('draws seven-segment digits in ASCII', () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24, ascii: true, wall: { rotateMs: 60_000, views: ['fleet'] } });
    const text = h.text();
    expect(text).toContain('o DISCONNECTED');
    expect(text).toMatch(/\|_\|/);
    expect(text.replace(/[\u2500-\u257f]/g, '')).toMatch(/^[\x20-\x7e\n]*$/);
  });
});
