// Key names as blessed reports them in `key.full`, how operators may write them in the
// config file, and how help prints them.

/** Keys with a name of their own (blessed's spelling). */
const NAMED = new Set([
  'up',
  'down',
  'left',
  'right',
  'enter',
  'escape',
  'tab',
  'backspace',
  'space',
  'home',
  'end',
  'pageup',
  'pagedown',
  'insert',
  'delete',
  ...Array.from({ length: 12 }, (_, i) => `f${i + 1}`),
]);

/** Other spellings operators write for named keys. */
const ALIASES: Record<string, string> = {
  esc: 'escape',
  return: 'enter',
  pgdn: 'pagedown',
  pgup: 'pageup',
  del: 'delete',
  ins: 'insert',
};

/** How help and the footer print a named key. */
const LABELS: Record<string, string> = {
  home: 'Home',
  end: 'End',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  enter: 'Enter',
  escape: 'Esc',
  tab: 'Tab',
  backspace: 'Backspace',
  space: 'Space',
  insert: 'Ins',
  delete: 'Del',
};

/** What the config file says when a key string is not a key. */
export const KEY_HELP =
  'use a character (q, G, ?), C-x or M-x for Ctrl or Alt with a key, or a key name (up, down, left, right, enter, escape, tab, backspace, space, home, end, pageup, pagedown, f1-f12)';

/**
 * A key as the config file may write it ("q", "G", "C-r", "pagedown") in blessed's spelling
 * ("S-g" for "G"), or undefined when it is not a key. One printable ASCII character, or a
 * named key, either with C-, M- or S- prefixes.
 */
export function normaliseKey(text: string): string | undefined {
  if (/^[A-Z]$/.test(text)) return `S-${text.toLowerCase()}`;
  if (text === ' ') return 'space';
  if (/^[\x21-\x7e]$/.test(text)) return text;
  const m = /^((?:[CMS]-)+)(.+)$/.exec(text);
  const base = m ? m[2]! : text;
  const named = ALIASES[base.toLowerCase()] ?? base.toLowerCase();
  if (NAMED.has(named)) return `${m ? m[1] : ''}${named}`;
  // A modifier with a letter: blessed spells it lower case ("C-r", "S-g").
  if (m && /^[a-z]$/i.test(base)) return `${m[1]}${base.toLowerCase()}`;
  if (m && /^[\x21-\x7e]$/.test(base)) return `${m[1]}${base}`;
  return undefined;
}

/** "G" for "S-g", "PgDn" for "pagedown"; other keys as they are. */
export function keyLabel(key: string): string {
  const shifted = /^S-([a-z])$/.exec(key);
  if (shifted) return shifted[1]!.toUpperCase();
  return LABELS[key] ?? key;
}

/** "j/down", "G/End": the keys of a binding as help prints them. */
export function keysLabel(keys: readonly string[]): string {
  return keys.map(keyLabel).join('/');
}
