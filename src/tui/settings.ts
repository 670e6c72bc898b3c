import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { configPath, parseConfig, type LoadedConfig } from '../core/config.js';
import { YardError } from '../core/errors.js';
import { GLYPH_SET_NAMES, type GlyphSetName } from './glyphs.js';
import { KEY_HELP, keyLabel, normaliseKey } from './key-names.js';
import { actionNames, KEYMAP, keyClashes, withKeys, type Keymap } from './keymap.js';
import { isThemePath } from './theme.js';
import { WALL_VIEWS, type ViewName } from './views/index.js';

/** The dashboard's settings from the config file, before the command line's flags. */
export interface Settings {
  /** The file they came from; undefined when there is none. */
  file: string | undefined;
  /** A theme name, or an absolute path to a theme file. */
  theme?: string;
  glyphs?: GlyphSetName;
  readonly: boolean;
  keymap: Keymap;
  wall: { rotateMs?: number; views?: ViewName[]; theme?: string };
}

export interface SettingsOptions {
  /** A config file named on the command line: it must exist. Left out, the default path, if there. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

const DEFAULTS: Settings = { file: undefined, readonly: false, keymap: KEYMAP, wall: {} };

/** Reads and validates the config file; errors name the file, the line and the field. */
export function loadSettings(opts: SettingsOptions = {}): Settings {
  const file = opts.file !== undefined ? resolve(opts.file) : configPath(opts.env);
  if (opts.file === undefined && !existsSync(file)) return DEFAULTS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new YardError(
      'CONFIG_NOT_FOUND',
      `config file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): check the path given to --config`,
      { file },
    );
  }
  const loaded = parseConfig(text, file, {
    actions: actionNames(),
    key: normaliseKey,
    keyHelp: KEY_HELP,
    views: WALL_VIEWS,
    glyphs: GLYPH_SET_NAMES,
  });
  const { config } = loaded;
  // A theme path is relative to the file that names it, not to wherever yard was started.
  const themeOf = (theme: string | undefined) =>
    theme !== undefined && isThemePath(theme) ? resolve(dirname(file), theme) : theme;
  return {
    file,
    ...(config.theme !== undefined ? { theme: themeOf(config.theme) } : {}),
    ...(config.glyphs !== undefined ? { glyphs: config.glyphs as GlyphSetName } : {}),
    readonly: config.readonly ?? false,
    keymap: keymapOf(loaded),
    wall: {
      ...(config.wall.rotateMs !== undefined ? { rotateMs: config.wall.rotateMs } : {}),
      ...(config.wall.views ? { views: config.wall.views as ViewName[] } : {}),
      ...(config.wall.theme !== undefined ? { theme: themeOf(config.wall.theme) } : {}),
    },
  };
}

/** The default keymap with the file's keys; a key that would do two things in one place is refused. */
function keymapOf({ file, config, where }: LoadedConfig): Keymap {
  const keymap = withKeys(KEYMAP, config.keys);
  const clash = keyClashes(keymap).find((c) => c.names.some((n) => n in config.keys));
  if (!clash) return keymap;
  const [first, second] = clash.names;
  const rebound = second in config.keys ? second : first;
  const other = rebound === second ? first : second;
  const line = where(['keys', rebound]);
  throw new YardError(
    'INVALID_CONFIG',
    `config file ${file}${line ? `, ${line}` : ''} (keys.${rebound}): "${keyLabel(clash.key)}" is also bound to "${other}" in ${clash.context}: choose another key, or rebind "${other}" too`,
    { file, field: `keys.${rebound}` },
  );
}

/** The display flags `yard` and `yard wall` share; left out, the config file decides. */
export interface DisplayFlags {
  theme?: string;
  ascii?: boolean;
  readonly?: boolean;
  config?: string;
}

/** What the dashboard is opened with: flags over the config file over the defaults. */
export interface Display {
  theme?: string;
  glyphs?: GlyphSetName;
  readonly: boolean;
  keymap: Keymap;
}

export function displayOptions(flags: DisplayFlags, settings: Settings): Display {
  const theme = flags.theme ?? settings.theme;
  const glyphs = flags.ascii ? 'ascii' : settings.glyphs;
  return {
    ...(theme !== undefined ? { theme } : {}),
    ...(glyphs !== undefined ? { glyphs } : {}),
    readonly: flags.readonly ?? settings.readonly,
    keymap: settings.keymap,
  };
}
