import { afterEach, describe, expect, it } from 'vitest';
import { ServerState } from '../../src/core/types.js';
import { feed, HOSTS, largeFleet, makeServer, sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

describe('fleet view', () => {
  it('shows every card with its state, numbers and GPUs at 160x48', () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    const text = h.text();
    for (const name of ['gpu-a100-01', 'cpu-web-02', 'gpu-t4-03']) expect(text).toContain(name);
    expect(text).toContain('● online');
    expect(text).toContain('○ disconnected');
    expect(text).toMatch(/last seen 4[2-4]s ago/);
    expect(text).toMatch(/CPU .*\d+%/);
    expect(text).toMatch(/MEM .*\d+%/);
    expect(text).toMatch(/NET ↓ *[\d.]+MB\/s ↑ *[\d.]+MB\/s/);
    // Four A100 lines: util, memory used/total, temperature, power.
    const a100 = text.split('\n').filter((l) => /G[0-3] .*\d+% +[\d.]+\/80\.0 GiB +\d+°C +\d+W/.test(l));
    expect(a100.length).toBeGreaterThanOrEqual(4);
    // The T4 answers [N/A] for memory used and power: shown as "–", never 0.
    expect(text).toMatch(/G0 .*\d+% +–\/15\.0 GiB +\d+°C +– /);
  });

  it('header says where the controller is and how much of the fleet is up', () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    const header = h.text().split('\n')[0]!;
    expect(header).toContain('127.0.0.1:7400 (embedded)');
    expect(header).toContain('2/3 online');
    expect(header).toContain('5 GPUs');
    expect(header).toMatch(/\d\d:\d\d:\d\d$/);
  });

  it('fits one column at 80x24 and pages the rest', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    let text = h.text();
    const lines = text.split('\n');
    expect(lines).toHaveLength(24);
    expect(lines.every((l) => [...l].length <= 80)).toBe(true);
    expect(text).toContain('cpu-web-02');
    expect(text).toContain('gpu-a100-01');
    expect(text).not.toContain('gpu-t4-03');
    expect(lines[23]).toContain('page 1/2');
    await h.press(KEY.pageDown);
    text = h.text();
    expect(text).toContain('gpu-t4-03');
    expect(text).toContain('page 2/2');
    await h.press(KEY.pageUp);
    expect(h.text()).toContain('page 1/2');
  });

  it('moves the selection with j/k, marks it without colour, and pages with it', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    expect(h.text()).toContain('▶ cpu-web-02');
    await h.press('j');
    expect(h.text()).toContain('▶ gpu-a100-01');
    expect(h.text()).not.toContain('▶ cpu-web-02');
    await h.press('j');
    expect(h.text()).toContain('▶ gpu-t4-03');
    expect(h.text()).toContain('page 2/2');
    await h.press('k', KEY.up);
    expect(h.text()).toContain('▶ cpu-web-02');
  });

  it('lays out more columns when wider, and pages a big fleet', async () => {
    h = openHeadless(largeFleet(100), { cols: 200, rows: 60 });
    const row = h.text().split('\n')[1]!;
    expect(row.match(/node-\d{4}/g)).toHaveLength(4);
    expect(h.text()).toMatch(/page 1\/\d+/);
    await h.press('G');
    expect(h.text()).toContain('▶ node-0099');
    const [, page, pages] = /page (\d+)\/(\d+)/.exec(h.text())!;
    expect(page).toBe(pages);
  });

  it('filters by label or substring with /, and Esc clears', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('/', ...'gpu=a100');
    let text = h.text();
    expect(text).toContain('filter: /gpu=a100');
    expect(text).toContain('gpu-a100-01');
    expect(text).not.toContain('gpu-t4-03');
    expect(text).not.toContain('cpu-web-02');
    await h.press(KEY.enter);
    text = h.text();
    expect(text).toContain('filter "gpu=a100"');
    expect(text).toContain('1 of 3 match');
    await h.press(KEY.escape);
    text = h.text();
    expect(text).toContain('gpu-t4-03');
    expect(text).toContain('3 servers');
  });

  it('filters by hostname substring and says when nothing matches', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('/', ...'web-02.lab');
    expect(h.text()).toContain('cpu-web-02');
    expect(h.text()).not.toContain('gpu-a100-01');
    await h.press(KEY.backspace, ...'xyz');
    expect(h.text()).toContain('No server matches "web-02.laxyz"');
    await h.press(KEY.escape);
    expect(h.text()).toContain('gpu-a100-01');
  });

  it('redraws when the source reports a change', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    const spec = { id: 'srv-new', name: 'aaa-new-host' };
    fleet.add(makeServer(spec, Date.now()));
    feed(fleet, spec, 5, Date.now());
    fleet.setState(HOSTS.web.id, ServerState.SERVER_STATE_DOWN, Date.now());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.text()).toContain('aaa-new-host');
    expect(h.text()).toContain('✖ down');
  });
});
