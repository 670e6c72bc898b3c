import { afterEach, describe, expect, it, vi } from 'vitest';
import { chooseTerminal, localeIsUtf8, noColorRequested } from '../../src/tui/terminal.js';
import { fitToTerminal, loadTheme, withoutColour } from '../../src/tui/theme.js';
import { largeFleet, sampleFleet } from './fleet-fixture.js';
import { openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => {
  h?.close();
  vi.unstubAllEnvs();
});

type Cell = [number, string];
const cells = (h: Headless): Cell[] => (h.dashboard.screen as unknown as { lines: Cell[][] }).lines.flat();
// blessed packs a cell's attributes as flags << 18 | fg << 9 | bg; 0x1ff is "terminal default".
const coloured = (attr: number): boolean => ((attr >> 9) & 0x1ff) !== 0x1ff || (attr & 0x1ff) !== 0x1ff;

/** SGR parameters that set a colour: 30-49 (with 38;5;n / 48;5;n) and 90-107. */
function colourCodes(output: string): string[] {
  const found: string[] = [];
  for (const [, params] of output.matchAll(/\x1b\[([\d;]*)m/g)) {
    for (const p of params!.split(';').map(Number))
      if ((p >= 30 && p <= 49) || (p >= 90 && p <= 107)) found.push(params!);
  }
  return found;
}

describe('terminal handling', () => {
  it('draws colour by default', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.settle();
    expect(cells(h).some(([attr]) => coloured(attr))).toBe(true);
    expect(colourCodes(h.written()).length).toBeGreaterThan(0);
  });

  it('NO_COLOR: no colour attributes or escape codes, states still readable', async () => {
    vi.stubEnv('NO_COLOR', '1');
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48, noColor: undefined });
    await h.settle();
    expect(cells(h).filter(([attr]) => coloured(attr))).toEqual([]);
    expect(h.written()).toContain('online');
    expect(colourCodes(h.written())).toEqual([]);
    const text = h.text();
    expect(text).toContain('● online');
    expect(text).toContain('○ disconnected');
    // Selection still shows: the marker, and the selected card's border drawn inverse.
    expect(text).toContain('▶ cpu-web-02');
    expect(cells(h).some(([attr]) => ((attr >> 18) & 8) !== 0)).toBe(true);
  });

  it('ASCII glyphs when asked (or when the locale is not UTF-8)', () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48, ascii: true });
    const text = h.text();
    expect(text).toContain('* online');
    expect(text).toContain('o disconnected');
    expect(text).toContain('> cpu-web-02');
    expect(text).toMatch(/CPU #+\.+ +\d+%/);
    expect(text).toMatch(/G0 .* - /);
    // Borders are blessed's (it maps them to ACS or ASCII itself); everything we draw is ASCII.
    const ours = text.replace(/[\u2500-\u257f]/g, '');
    expect(ours).toMatch(/^[\x20-\x7e\n]*$/);
  });

  it('says the terminal is too small instead of drawing a broken layout', () => {
    h = openHeadless(sampleFleet(), { cols: 40, rows: 10 });
    const text = h.text();
    expect(text).toContain('terminal too small');
    expect(text).toContain('need 60x15');
    expect(text).not.toContain('gpu-a100-01');
  });

  it('re-lays out on resize: too small, then 200x60 with four columns', async () => {
    h = openHeadless(largeFleet(12), { cols: 80, rows: 24 });
    expect(
      h
        .text()
        .split('\n')[1]!
        .match(/node-\d{4}/g),
    ).toHaveLength(1);
    await h.resize(50, 12);
    expect(h.text()).toContain('terminal too small');
    await h.resize(200, 60);
    const lines = h.text().split('\n');
    expect(lines).toHaveLength(60);
    expect(lines[1]!.match(/node-\d{4}/g)).toHaveLength(4);
    expect(lines[59]).toContain('12 servers');
  });
});

describe('environment', () => {
  it('drives every 256-colour terminal as xterm-256color', () => {
    expect(chooseTerminal('tmux-256color')).toBe('xterm-256color');
    expect(chooseTerminal('screen-256color')).toBe('xterm-256color');
    expect(chooseTerminal('xterm-256color')).toBe('xterm-256color');
    expect(chooseTerminal('screen')).toBe('xterm');
    expect(chooseTerminal(undefined)).toBe('xterm');
    expect(chooseTerminal('linux')).toBe('linux');
  });

  it('reads NO_COLOR and the locale as their conventions say', () => {
    expect(noColorRequested({ NO_COLOR: '1' })).toBe(true);
    expect(noColorRequested({ NO_COLOR: '' })).toBe(false);
    expect(noColorRequested({})).toBe(false);
    expect(localeIsUtf8({ LANG: 'en_US.UTF-8' })).toBe(true);
    expect(localeIsUtf8({ LC_ALL: 'C', LANG: 'en_US.UTF-8' })).toBe(false);
    expect(localeIsUtf8({ LC_CTYPE: 'C.utf8' })).toBe(true);
    expect(localeIsUtf8({})).toBe(false);
  });

  it('a terminal with fewer than 8 colours gets the NO_COLOR theme; 8 get basic colours, 16 all', () => {
    const theme = loadTheme('default');
    // blessed says -1 for vt100 and vt220, whose terminfo has no colours at all.
    for (const colours of [-1, 0, 2])
      expect(fitToTerminal(theme, colours), String(colours)).toEqual(withoutColour(theme));
    expect(JSON.stringify(fitToTerminal(theme, 8))).not.toMatch(/"(light|bright)-|"gr[ae]y"/);
    expect(fitToTerminal(theme, 8).header.bg).not.toBe('none');
    expect(fitToTerminal(theme, 16)).toEqual(theme);
  });
});
