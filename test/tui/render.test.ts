import { describe, expect, it } from 'vitest';
import { serverFilter } from '../../src/tui/filter.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS } from '../../src/tui/glyphs.js';
import { bar } from '../../src/tui/render/bar.js';
import { bytesShort, gibPair, trafficText } from '../../src/core/format/bytes.js';
import { pctText } from '../../src/core/format/numbers.js';
import { fit, fitWords } from '../../src/tui/render/format.js';
import { gpuLine } from '../../src/tui/render/gpu-line.js';
import { fitLegend } from '../../src/tui/render/legend.js';
import { loadTheme, withoutColour } from '../../src/tui/theme.js';
import { plot } from '../../src/tui/render/plot.js';
import { sparkline } from '../../src/tui/render/sparkline.js';
import { makeServer } from './fleet-fixture.js';

describe('text renderers', () => {
  it('sparklines leave unknown readings as gaps and short history blank on the left', () => {
    expect(sparkline([0, 50, Number.NaN, 100], 6, UNICODE_GLYPHS, 100)).toBe('  ▁▅ █');
    expect(sparkline([0, 100], 2, ASCII_GLYPHS, 100)).toBe('_@');
  });

  it('bars use eighth blocks in UTF-8 and whole cells in ASCII; unknown is empty', () => {
    expect(bar(50, 4, UNICODE_GLYPHS)).toEqual({ filled: '██', empty: '░░' });
    expect(bar(30, 4, UNICODE_GLYPHS).filled).toBe('█▎');
    expect(bar(30, 4, ASCII_GLYPHS)).toEqual({ filled: '#', empty: '...' });
    expect(bar(undefined, 3, UNICODE_GLYPHS)).toEqual({ filled: '', empty: '░░░' });
  });

  it('plots braille with points joined, and ASCII with one point a column', () => {
    const braille = plot([[0, 100]], 1, 1, 0, 100, true);
    // Left column bottom dot (0x40) and the right column from bottom to top (0x08|0x10|0x20|0x80).
    expect(braille[0]![0]!.ch).toBe(String.fromCharCode(0x2800 + 0x40 + 0x08 + 0x10 + 0x20 + 0x80));
    const ascii = plot(
      [
        [0, 100],
        [50, Number.NaN],
      ],
      2,
      3,
      0,
      100,
      false,
    ).map((row) => row.map((c) => c.ch).join(''));
    expect(ascii).toEqual([' *', '+ ', '* ']);
  });

  it('formats unknown as the unknown mark, never 0', () => {
    expect(pctText(undefined, '–')).toBe('–');
    expect(pctText(Number.NaN, '–')).toBe('–');
    expect(gibPair(undefined, 15360, '–')).toBe('–/15.0 GiB');
    expect(gibPair(undefined, undefined, '–')).toBe('–');
    expect(bytesShort(931 * 1024 ** 3, '–')).toBe('931G');
    expect(bytesShort(1.5 * 1024 ** 4, '–')).toBe('1.5T');
    expect(trafficText(12_345_678, '–')).toBe('12.3MB/s');
    expect(fit('gpu-a100-01', 6, '…')).toBe('gpu-a…');
  });

  it('never cuts a number short: it shows whole or goes, labels and secondary text first', () => {
    expect(fit('power 590W', 8, '…')).toBe('power … ');
    expect(fit('power 590W', 9, '…')).toBe('power …  ');
    expect(fit('mem 38.2/80.0 GiB', 12, '…')).toBe('mem …       ');
    expect(fit('12345', 3, '…')).toBe('…  ');
    expect(fit('590W', 4, '…')).toBe('590W');
    // Digits inside a name are not a number: the name is still cut where it must be.
    expect(fit('node-0012', 7, '…')).toBe('node-0…');
    const look = { theme: withoutColour(loadTheme('default')), glyphs: UNICODE_GLYPHS };
    const items = [
      ['util 100%', '100%'],
      ['temp 59°C', '59°C'],
      ['power 632W of 700W', 'power 632W', '632W'],
    ].map((forms) => ({ forms, colour: 'none' }));
    expect(fitLegend(items, 80)).toBe('util 100%  temp 59°C  power 632W of 700W');
    expect(fitLegend(items, 30)).toBe('util 100%  59°C  power 632W');
    expect(fitLegend(items, 18)).toBe('100%  59°C  632W');
    expect(fitLegend(items, 12)).toBe('100%  59°C');
    expect(fitLegend(items, 3)).toBe('');
    const sample = {
      index: 0,
      uuid: 'g',
      name: 'H100',
      utilizationPct: 100,
      memoryUtilizationPct: 11,
      memoryUsedMib: 19818,
      memoryTotalMib: 81559,
      temperatureC: 59,
      powerW: 631.95,
      powerLimitW: 700,
      smClockMhz: 1980,
      memoryClockMhz: 2619,
      fanPct: undefined,
      processes: [],
    };
    const line = (width: number) => gpuLine(0, sample, undefined, width, look, false).replace(/ +/g, ' ');
    expect(line(35)).toBe('G0 100% 19.4/79.6 GiB 59°C 632W');
    expect(line(30)).toBe('G0 100% 19.4/79.6 GiB 59°C');
    expect(line(12)).toBe('G0 100%');
  });

  it('cuts a footer message at a word, with an ellipsis', () => {
    expect(fitWords('migration of web to gpu-b started', 25, '…')).toBe('migration of web to…');
    expect(fitWords('short', 25, '…')).toBe('short');
    expect(fitWords('unbrokenwordthatislong', 10, '…')).toBe('unbrokenw…');
  });

  it('filters by label, by substring of name, hostname or label, all words together', () => {
    const server = makeServer({ id: 's', name: 'gpu-a100-01', labels: { gpu: 'a100-80gb', zone: 'us-east-1a' } }, 0);
    expect(serverFilter('gpu=a100')(server)).toBe(true);
    expect(serverFilter('gpu=t4')(server)).toBe(false);
    expect(serverFilter('lab.example')(server)).toBe(true);
    expect(serverFilter('east')(server)).toBe(true);
    expect(serverFilter('A100 zone=us-east')(server)).toBe(true);
    expect(serverFilter('a100 web')(server)).toBe(false);
  });
});
