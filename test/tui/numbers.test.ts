// Numbers are never cut short by fitting: at every width the views draw, a reading shows with
// all its digits or not at all. The GPUs are the recorded nvidia-smi output the fake replays
// (test/fixtures/nvidia-smi): one H100 under load at 632 W of 700 W, and eight H100s under load.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { parseGpuCsv } from '../../src/agent/metrics/nvidia-smi.js';
import { UNICODE_GLYPHS } from '../../src/tui/glyphs.js';
import { createScreen, screenText } from '../../src/tui/screen.js';
import { loadTheme } from '../../src/tui/theme.js';
import { CoreBars, coresHeight } from '../../src/tui/widgets/core-bars.js';
import { DisksTable } from '../../src/tui/widgets/disks-table.js';
import { FixtureFleet, makeSample, makeServer, type HostSpec } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

const recorded = (name: string) =>
  parseGpuCsv(readFileSync(fileURLToPath(new URL(`../fixtures/nvidia-smi/${name}.csv`, import.meta.url)), 'utf8'));

let h: Headless | undefined;
afterEach(() => h?.close());

/** One host whose GPUs read exactly what `fixture` recorded, with a minute of history. */
function recordedHost(fixture: string): FixtureFleet {
  const gpus = recorded(fixture);
  const spec: HostSpec = {
    id: 'srv-h100',
    name: 'h100-box',
    cores: 16,
    gpus: gpus.map((g) => ({ name: g.name, memoryMib: g.memoryTotalMib ?? 0 })),
  };
  const fleet = new FixtureFleet();
  const now = Date.now();
  fleet.add(makeServer(spec, now));
  for (let t = 0; t < 60; t++) {
    const uuids = gpus.map((g, i) => ({ ...g, uuid: g.uuid || `GPU-${spec.id}-${i}` }));
    fleet.record(spec.id, { ...makeSample(spec, t, now - (59 - t) * 1000), gpus: uuids });
  }
  return fleet;
}

async function serverView(fleet: FixtureFleet, cols: number): Promise<string> {
  h?.close();
  h = openHeadless(fleet, { cols, rows: 48 });
  await h.press(KEY.enter);
  return h.text();
}

describe('numbers are never cut short', () => {
  it('the GPU box shows power and temperature with every digit, or not at all, at 80 to 160 columns', async () => {
    const fleet = recordedHost('h100-load');
    for (const cols of [80, 100, 120, 160]) {
      const screen = await serverView(fleet, cols);
      const line = screen.split('\n').find((l) => /util 100%/.test(l)) ?? '';
      const legend = line.slice(line.indexOf('util'));
      expect(legend, `${cols} columns`).not.toBe('');
      // Every figure on the line is a whole recorded one: util 100%, mem 24% (19818 of 81559
      // MiB), 59°C, 631.95 W of 700 W.
      for (const [n] of legend.matchAll(/\d+/g))
        expect(['100', '24', '59', '632', '700'], `${cols}: ${legend}`).toContain(n);
      expect(legend, `${cols}`).toMatch(/632W/);
    }
  });

  it('the 8×H100 recording: each GPU line shows its whole utilization and memory on the fleet and the server view', async () => {
    const fleet = recordedHost('h100-x8-load');
    const gpus = recorded('h100-x8-load');
    const pair = (g: (typeof gpus)[number]) =>
      `${(g.memoryUsedMib! / 1024).toFixed(1)}/${(g.memoryTotalMib! / 1024).toFixed(1)} GiB`;
    for (const cols of [80, 100, 120, 160]) {
      h?.close();
      h = openHeadless(fleet, { cols, rows: 40 });
      const card = h.text();
      for (const g of gpus) {
        const line = card.split('\n').find((l) => l.includes(`G${g.index} `)) ?? '';
        expect(line, `${cols}: G${g.index}`).toContain(` ${g.utilizationPct}% `);
        expect(line, `${cols}: G${g.index}`).toContain(pair(g));
      }
      // The server view: every figure in a GPU box's legend is a whole one.
      const screen = await serverView(fleet, cols);
      for (const line of screen.split('\n').filter((l) => l.includes('util '))) {
        const legend = line.slice(line.indexOf('util '));
        expect(legend, `${cols}: ${legend}`).toMatch(/^util (98|99|100)% +mem (24|25|26|94|95|96|97)%/);
      }
    }
  });

  it('per-core bars keep every index and percentage whole, 128 cores and a narrow box too', () => {
    const screen = createScreen({
      input: new PassThrough(),
      output: new PassThrough(),
      cols: 260,
      rows: 80,
      ascii: false,
    });
    try {
      const bars = new CoreBars(screen, { theme: loadTheme('default'), glyphs: UNICODE_GLYPHS });
      const host = (n: number) => Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 100 : i % 100));
      for (const [count, width] of [
        [4, 14],
        [16, 18],
        [16, 60],
        [128, 60],
        [128, 200],
        [128, 240],
      ] as const) {
        const cores = host(count);
        bars.show({ left: 0, top: 0, width, height: coresHeight(count, width) }, cores, false);
        screen.render();
        const text = screenText(screen)
          .split('\n')
          .map((l) => [...l].slice(0, width).join(''))
          .join('\n');
        const entries = [...text.matchAll(/(\d+) [█▏▎▍▌▋▊▉░]* *(\d+)%/g)];
        // Bars: every core, its index and its reading digit for digit. Too many cores for
        // bars: one glyph each, and no entry cut short.
        if (entries.length === 0) expect(text, `${count} cores in ${width}`).toMatch(/^│ +0 [▁▂▃▄▅▆▇█ ]+/m);
        else
          expect(
            entries.map(([, core, pct]) => [Number(core), Number(pct)]),
            `${count} cores in ${width}`,
          ).toEqual(cores.map((pct, core) => [core, pct]));
      }
    } finally {
      screen.destroy();
    }
  });

  it('the Disks pane shows free space, size and used % whole, or drops the size first', () => {
    const screen = createScreen({
      input: new PassThrough(),
      output: new PassThrough(),
      cols: 80,
      rows: 20,
      ascii: false,
    });
    try {
      const table = new DisksTable(screen, { theme: loadTheme('default'), glyphs: UNICODE_GLYPHS });
      const GIB = 1024 ** 3;
      const disks = [{ mount: '/data', fs: '/dev/md0', type: 'xfs', sizeBytes: 7450 * GIB, usedBytes: 6100 * GIB }];
      for (const width of [20, 26, 40, 80]) {
        table.show({ left: 0, top: 0, width, height: 5 }, disks, false);
        screen.render();
        const row = screenText(screen).split('\n')[2]!.slice(0, width);
        expect(row, `${width}`).toMatch(/ 1\.3T /);
        expect(row, `${width}`).toMatch(/ 82% /);
        if (width >= 40) expect(row).toMatch(/ 7\.3T /);
        else expect(row).not.toMatch(/7\.?3?T?\s*│?$/);
      }
    } finally {
      screen.destroy();
    }
  });
});
