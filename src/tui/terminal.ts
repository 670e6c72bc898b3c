// What the terminal can do, decided once from the environment at start.
import type { GlyphSetName } from './glyphs.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The terminfo name to give blessed. Its parser mangles tmux-256color and screen-256color
 * (junk on stderr, 8 colours), and xterm-256color describes what those terminals do, so every
 * 256-colour terminal is driven as xterm-256color; plain tmux/screen as xterm.
 */
export function chooseTerminal(term: string | undefined): string {
  if (!term || term === 'dumb') return 'xterm';
  if (/256colou?r$/.test(term)) return 'xterm-256color';
  if (/^(tmux|screen)/.test(term)) return 'xterm';
  return term;
}

/** NO_COLOR (https://no-color.org): present and not empty. */
export function noColorRequested(env: Env): boolean {
  return (env.NO_COLOR ?? '') !== '';
}

/** The first locale variable that is set decides, as in setlocale(3): LC_ALL, LC_CTYPE, LANG. */
export function localeIsUtf8(env: Env): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale);
}

/**
 * The richest glyph set the terminal can show: ASCII without a UTF-8 locale; blocks on a linux
 * console, whose fonts have block elements but no braille; braille everywhere else.
 */
export function chooseGlyphs(env: Env): GlyphSetName {
  if (!localeIsUtf8(env)) return 'ascii';
  return env.TERM === 'linux' ? 'blocks' : 'braille';
}
