import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { YardError } from '../../src/core/errors.js';
import { fitToTerminal, loadTheme, parseTheme, themeNames, withoutColour } from '../../src/tui/theme.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

function errorOf(fn: () => unknown): YardError {
  try {
    fn();
  } catch (err) {
    if (err instanceof YardError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('themes', () => {
  it('loads the shipped themes by name', () => {
    expect(loadTheme().name).toBe('default');
    expect(loadTheme('default').states.online).toBe('green');
    const mono = loadTheme('mono');
    expect(mono.header.inverse).toBe(true);
    expect(Object.values(mono.states).every((c) => c === 'none')).toBe(true);
  });

  it('ships default, light, high-contrast and mono, each valid', () => {
    expect(themeNames()).toEqual(['default', 'high-contrast', 'light', 'mono']);
    for (const name of themeNames()) expect(loadTheme(name).name).toBe(name);
    // The light theme is for light backgrounds: nothing drawn in white or yellow on them.
    expect(JSON.stringify(loadTheme('light').states)).not.toMatch(/white|yellow/);
    expect(loadTheme('high-contrast').levels).toEqual({ ok: 'light-green', warn: 'light-yellow', crit: 'light-red' });
  });

  it('on an 8-colour terminal (xterm, linux) light colours become their plain ones', () => {
    const eight = fitToTerminal(loadTheme('high-contrast'), 8);
    expect(eight.levels).toEqual({ ok: 'green', warn: 'yellow', crit: 'red' });
    expect(eight.header).toEqual({ fg: 'black', bg: 'white', inverse: false });
    expect(eight.name).toBe('high-contrast');
    expect(fitToTerminal(loadTheme('high-contrast'), 16).levels.ok).toBe('light-green');
  });

  it('names the file and the field of a bad colour', () => {
    const err = errorOf(() => loadTheme(fixture('bad-colour-theme.json')));
    expect(err.code).toBe('INVALID_THEME');
    expect(err.message).toContain('bad-colour-theme.json');
    expect(err.message).toContain('field "states.online"');
    expect(err.message).toContain('"grean" is not a colour');
  });

  it('names a missing field', () => {
    const err = errorOf(() => loadTheme(fixture('missing-field-theme.json')));
    expect(err.message).toContain('missing-field-theme.json');
    expect(err.message).toContain('field "levels.warn"');
  });

  it('says when a file is not JSON, or not there', () => {
    expect(errorOf(() => loadTheme(fixture('not-json-theme.json'))).message).toMatch(
      /not-json-theme\.json is not valid JSON/,
    );
    const missing = errorOf(() => loadTheme('solarized'));
    expect(missing.code).toBe('THEME_NOT_FOUND');
    expect(missing.message).toContain('theme "solarized" not found');
    expect(missing.message).toContain(
      'use one of "default", "high-contrast", "light", "mono" or a path to a theme file',
    );
  });

  it('refuses hex colours, which blessed maps to the wrong palette entry', () => {
    const theme = { ...loadTheme('default'), muted: '#8a8a8a' };
    expect(() => parseTheme(theme, 'mine.json')).toThrow(
      'theme file mine.json: field "muted": "#8a8a8a" is not a colour',
    );
  });

  it('on an 8-colour terminal grey becomes the default colour instead of black', () => {
    const theme = loadTheme('default');
    expect(theme.muted).toBe('grey');
    expect(fitToTerminal(theme, 256)).toBe(theme);
    const eight = fitToTerminal(theme, 8);
    expect(eight.muted).toBe('none');
    expect(eight.states.disconnected).toBe('none');
    expect(eight.states.online).toBe('green');
  });

  it('NO_COLOR strips every colour from a theme', () => {
    const stripped = JSON.stringify(withoutColour(loadTheme('default')));
    expect(stripped).not.toMatch(/green|red|yellow|cyan|grey|blue/i);
  });
});
