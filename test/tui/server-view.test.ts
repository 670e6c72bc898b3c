import { afterEach, describe, expect, it } from 'vitest';
import { HOSTS, makeSample, sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

/** Opens the server view on the 4xA100 host (second card in name order). */
async function openA100(cols: number, rows: number): Promise<Headless> {
  h = openHeadless(sampleFleet(), { cols, rows });
  await h.press('l', KEY.enter);
  return h;
}

describe('server view', () => {
  it('shows charts, GPUs, disks, cores and host info at 160x48', async () => {
    const { text } = await openA100(160, 48);
    const screen = text();
    expect(screen.split('\n')[0]).toContain('Fleet › gpu-a100-01');
    for (const title of [
      'CPU %',
      'Memory %',
      'Network rx/tx',
      'GPU0 · NVIDIA A100-SXM4-80GB',
      'GPU3 · NVIDIA A100-SXM4-80GB',
      'Disks',
      'CPU cores (16)',
    ]) {
      expect(screen).toContain(title);
    }
    // Braille line charts with a 0..100 axis.
    expect(screen).toMatch(/100┤/);
    expect(screen).toMatch(/[\u2801-\u28ff]/);
    expect(screen).toMatch(/util \d+% +mem \d+%/);
    // Disks table: mount, free, size, used % (free space is what an operator looks for).
    expect(screen).toMatch(/mount +free +size +used/);
    expect(screen).toMatch(/\/ +519G +931G +44%/);
    expect(screen).toMatch(/\/data +1\.3T +7\.3T +82%/);
    // Per-core bars, cores 0..15.
    expect(screen).toMatch(/ 0 [█▏▎▍▌▋▊▉░]+ +\d+%/);
    expect(screen).toMatch(/15 [█▏▎▍▌▋▊▉░]+ +\d+%/);
    // Host info.
    for (const info of ['Ubuntu 22.04.4 LTS', '6.5.0-35-generic', 'AMD EPYC 7763', '10.0.4.17', 'gpu=a100', '0.1.0'])
      expect(screen).toContain(info);
    expect(screen).toMatch(/last seen \ds ago/);
    expect(screen).not.toMatch(/page \d\/\d/);
  });

  it('titles the header with the server in the very frame that opens it, even with a frame already pending', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 120, rows: 40 });
    await h.press('l');
    // A state change marks the header dirty before the key does: it must still draw after the view.
    const [, second] = fleet.list();
    fleet.setState(second!.server.id, second!.server.state, Date.now());
    await h.press(KEY.enter);
    expect(h.text().split('\n')[0]).toContain('Fleet › gpu-a100-01');
  });

  it('pages its panes at 80x24 and keeps every line inside the screen', async () => {
    const { text, press } = await openA100(80, 24);
    let screen = text();
    expect(screen.split('\n').every((l) => [...l].length <= 80)).toBe(true);
    expect(screen).toContain('CPU %');
    expect(screen).toContain('page 1/');
    const pages = Number(/page 1\/(\d+)/.exec(screen)![1]);
    const seen = new Set(screen.match(/GPU\d|Disks|CPU cores/g));
    for (let i = 1; i < pages; i++) {
      await press(KEY.pageDown);
      screen = text();
      for (const m of screen.match(/GPU\d|Disks|CPU cores/g) ?? []) seen.add(m);
    }
    expect(screen).toContain(`page ${pages}/${pages}`);
    expect([...seen].sort()).toEqual(['CPU cores', 'Disks', 'GPU0', 'GPU1', 'GPU2', 'GPU3']);
  });

  it('uses the space at 200x60: everything on one page, taller charts', async () => {
    const { text } = await openA100(200, 60);
    const screen = text();
    expect(screen).not.toMatch(/page \d\/\d/);
    expect(screen).toContain('GPU3');
    expect(screen).toContain('CPU cores');
    // Read the CPU chart's own column: its top and its 0 axis are more than 10 rows apart.
    const lines = screen.split('\n');
    const top = lines.findIndex((l) => l.includes('─ CPU % '));
    const left = lines[top]!.indexOf('┌─ CPU % ');
    const column = lines.slice(top).map((l) => l.slice(left, left + 10));
    expect(column.findIndex((l) => l.includes('  0┤'))).toBeGreaterThan(10);
  });

  it('replaces the grid even when a data change had the grid waiting to redraw', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    fleet.record(HOSTS.t4.id, makeSample(HOSTS.t4, 500, Date.now()));
    await h.press(KEY.enter);
    const screen = h.text();
    expect(screen).toContain('CPU %');
    expect(screen).not.toContain('▶');
    expect(screen).not.toMatch(/CPU [█░]/);
  });

  it('Esc goes back to the grid with the same server selected', async () => {
    const { text, press } = await openA100(160, 48);
    await press(KEY.escape);
    const screen = text();
    expect(screen).toContain('▶ gpu-a100-01');
    expect(screen).toContain('cpu-web-02');
    expect(screen).not.toContain('CPU %');
  });

  it('steps to the next server with l and shows a silent host as such', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press(KEY.enter);
    const screen = h.text();
    expect(screen).toContain('Fleet › cpu-web-02');
    expect(screen).toContain('○ disconnected');
    expect(screen).toMatch(/last seen 4\ds ago: cpu \d+%/);
    await h.press('l');
    expect(h.text()).toContain('Fleet › gpu-a100-01');
  });

  it('marks unknown GPU readings on the [N/A] host', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('G', KEY.enter);
    const screen = h.text();
    expect(screen).toContain('GPU0 · Tesla T4');
    expect(screen).toMatch(/util \d+% +mem – +temp \d+°C +power –/);
  });
});
