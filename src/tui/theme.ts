import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { YardError } from '../core/errors.js';

const BASE_COLOURS = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white', 'grey', 'gray'];

/**
 * A colour name ("green", "light-blue") or "none" for the terminal's own. No "#rrggbb":
 * blessed maps hex to the nearest palette entry badly (#8a8a8a comes out yellow).
 */
const colour = z.string().refine((c) => c === 'none' || BASE_COLOURS.includes(c.replace(/^(light|bright)-/, '')), {
  error: (issue) =>
    `"${String(issue.input)}" is not a colour: use a name like "green", "grey" or "light-blue", or "none"`,
});

const bar = z.strictObject({ fg: colour, bg: colour, inverse: z.boolean() });

const themeSchema = z.strictObject({
  name: z.string().min(1),
  header: bar,
  footer: bar,
  /** The line that says the controller is unreachable: it must stand out from everything. */
  banner: bar,
  border: colour,
  selected: colour,
  /** Secondary text: labels, axes. */
  muted: colour,
  /** Values from a host that stopped reporting: never shown like fresh ones. */
  stale: colour,
  states: z.strictObject({
    online: colour,
    degraded: colour,
    disconnected: colour,
    down: colour,
    draining: colour,
    cordoned: colour,
    unknown: colour,
  }),
  levels: z.strictObject({ ok: colour, warn: colour, crit: colour }),
  /** Colours of the lines in a chart, in order. */
  series: z.array(colour).min(1),
});

export type Theme = z.infer<typeof themeSchema>;
export type Colour = string;

/**
 * Where the theme files live. Walking up from this module finds them both when run from
 * src/ (tests) and from any build output folder, without copying them into dist/.
 */
function themesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'themes');
    if (existsSync(join(candidate, 'default.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new YardError('THEME_NOT_FOUND', 'the themes/ folder is missing from this installation: reinstall switchyard');
}

/** Validates a parsed theme; `file` names where it came from in the error an operator reads. */
export function parseTheme(data: unknown, file: string): Theme {
  const result = themeSchema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  throw new YardError('INVALID_THEME', `theme file ${file}: field "${field}": ${issue.message}`, { file, field });
}

/** The themes shipped in themes/, by name. */
export function themeNames(): string[] {
  return readdirSync(themesDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** True when `nameOrPath` names a file rather than a shipped theme. */
export function isThemePath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || nameOrPath.endsWith('.json');
}

/** Loads a theme by name ("default", "light") or by path to a JSON file. */
export function loadTheme(nameOrPath = 'default'): Theme {
  const file = isThemePath(nameOrPath) ? resolve(nameOrPath) : join(themesDir(), `${nameOrPath}.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    const names = themeNames()
      .map((n) => `"${n}"`)
      .join(', ');
    throw new YardError(
      'THEME_NOT_FOUND',
      `theme "${nameOrPath}" not found (looked for ${file}): use one of ${names} or a path to a theme file`,
      { file },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new YardError('INVALID_THEME', `theme file ${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
  return parseTheme(data, file);
}

const GREYS = new Set(['grey', 'gray', 'light-black', 'bright-black']);

/** A colour as an 8-colour terminal can show it: "light-red" is red; grey is the terminal's own. */
function basicColour(colour: string): string {
  if (GREYS.has(colour)) return 'none';
  return colour.replace(/^(light|bright)-/, '');
}

/**
 * The theme as a terminal with `colours` colours can show it. Theme colours are the 16 basic
 * names already (hex is refused), so 16 colours need nothing. With fewer (TERM=xterm, a linux
 * console) blessed turns grey into black, invisible on a dark background, so grey becomes the
 * terminal's own colour, and the light colours their plain ones. Below 8 (a vt100 says -1)
 * blessed maps every colour to black, so such a terminal gets what NO_COLOR gets.
 */
export function fitToTerminal(theme: Theme, colours: number): Theme {
  if (colours < 8) return withoutColour(theme);
  if (colours >= 16) return theme;
  return JSON.parse(JSON.stringify(theme), (key, value: unknown) =>
    typeof value === 'string' && key !== 'name' ? basicColour(value) : value,
  ) as Theme;
}

/** The same theme with every colour removed, for NO_COLOR: contrast comes from inverse only. */
export function withoutColour(theme: Theme): Theme {
  const states = Object.fromEntries(Object.keys(theme.states).map((k) => [k, 'none'])) as Theme['states'];
  return {
    name: `${theme.name} (no colour)`,
    header: { fg: 'none', bg: 'none', inverse: true },
    footer: { fg: 'none', bg: 'none', inverse: true },
    banner: { fg: 'none', bg: 'none', inverse: true },
    border: 'none',
    selected: 'none',
    muted: 'none',
    stale: 'none',
    states,
    levels: { ok: 'none', warn: 'none', crit: 'none' },
    series: ['none'],
  };
}
