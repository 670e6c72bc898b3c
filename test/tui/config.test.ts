import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configPath } from '../../src/core/config.js';
import { YardError } from '../../src/core/errors.js';
import { normaliseKey } from '../../src/tui/key-names.js';
import { bindingFor, KEYMAP } from '../../src/tui/keymap.js';
import { displayOptions, loadSettings } from '../../src/tui/settings.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/config/${name}`, import.meta.url));

function errorOf(fn: () => unknown): YardError {
  try {
    fn();
  } catch (err) {
    if (err instanceof YardError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

const load = (name: string) => loadSettings({ file: fixture(name) });

describe('config file', () => {
  it('lives in $XDG_CONFIG_HOME/switchyard, else ~/.config/switchyard', () => {
    expect(configPath({ XDG_CONFIG_HOME: '/etc/xdg-test' })).toBe('/etc/xdg-test/switchyard/config.yaml');
    expect(configPath({ HOME: '/home/op' })).toMatch(/\/\.config\/switchyard\/config\.yaml$/);
    // A relative XDG path is ignored, as the spec says.
    expect(configPath({ XDG_CONFIG_HOME: 'rel' })).toMatch(/\/\.config\/switchyard\/config\.yaml$/);
  });

  it('is optional: without one, the defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yard-config-'));
    const settings = loadSettings({ env: { XDG_CONFIG_HOME: dir } });
    expect(settings.file).toBeUndefined();
    expect(settings.keymap).toBe(KEYMAP);
    expect(settings.readonly).toBe(false);
  });

  it('reads every field: theme (relative to the file), glyphs, readonly, keys, wall', () => {
    const s = load('good.yaml');
    expect(s.theme).toBe(fixture('my-theme.json'));
    expect(s.glyphs).toBe('blocks');
    expect(s.readonly).toBe(true);
    expect(s.wall).toEqual({ rotateMs: 20_000, views: ['fleet', 'migrations'], theme: 'high-contrast' });
    // Keys are rebound everywhere the action applies, in blessed's spelling.
    expect(bindingFor(s.keymap, 'fleet', 'C-q')?.name).toBe('quit');
    expect(bindingFor(s.keymap, 'fleet', 'q')).toBeUndefined();
    expect(bindingFor(s.keymap, 'fleet', 'S-g')?.name).toBe('last');
    expect(bindingFor(s.keymap, 'workloads', 'end')?.name).toBe('last');
    expect(bindingFor(s.keymap, 'server', 'backspace')?.name).toBe('back');
    // Help prints the keys in force.
    expect(s.keymap.find((b) => b.name === 'quit')!.label).toBe('C-q');
    expect(s.keymap.find((b) => b.name === 'last')!.label).toBe('G/End');
    // C-c always quits: it is not the file's to take away.
    expect(bindingFor(s.keymap, 'fleet', 'C-c')?.name).toBe('quit-anywhere');
  });

  it('flags win over the file', () => {
    const s = load('good.yaml');
    expect(displayOptions({}, s)).toMatchObject({ theme: s.theme, glyphs: 'blocks', readonly: true });
    expect(displayOptions({ theme: 'mono', ascii: true, readonly: false }, s)).toMatchObject({
      theme: 'mono',
      glyphs: 'ascii',
      readonly: false,
    });
  });

  it('says where YAML is broken', () => {
    const err = errorOf(() => load('not-yaml.yaml'));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(/^config file .*not-yaml\.yaml, line 4: not valid YAML: /);
  });

  it('refuses a string that is not a key, naming the line and the field', () => {
    expect(errorOf(() => load('bad-key.yaml')).message).toMatch(
      /^config file .*bad-key\.yaml, line 4 \(keys\.quit\[1\]\): "ctrl\+q" is not a key: use a character \(q, G, \?\), C-x or M-x/,
    );
  });

  it('refuses an unknown action and lists the real ones', () => {
    const message = errorOf(() => load('unknown-action.yaml')).message;
    expect(message).toMatch(
      /^config file .*unknown-action\.yaml, line 3 \(keys\.quitt\): "quitt" is not an action: use one of down, up, right, left/,
    );
    expect(message).toContain('show-migrations');
    expect(message).not.toContain('quit-anywhere');
  });

  it('refuses a key that would do two things in one place', () => {
    expect(errorOf(() => load('clash.yaml')).message).toMatch(
      /^config file .*clash\.yaml, line 3 \(keys\.show-fleet\): "j" is also bound to "down" in fleet: choose another key, or rebind "down" too/,
    );
  });

  it('refuses unknown fields, bad views, durations and types', () => {
    expect(errorOf(() => load('unknown-field.yaml')).message).toMatch(
      /unknown-field\.yaml, line 3 \(colour\): unknown field: the file takes theme, glyphs, readonly, keys and wall/,
    );
    expect(errorOf(() => load('bad-wall.yaml')).message).toMatch(
      /bad-wall\.yaml, line 3 \(wall\.views\[1\]\): "alerts" is not a view a wall can show: use fleet, workloads, migrations, routes/,
    );
    expect(errorOf(() => load('bad-rotate.yaml')).message).toMatch(
      /bad-rotate\.yaml, line 2 \(wall\.rotate\): rotate "soon" is not a duration: use e\.g\. 500ms, 1s, 2m/,
    );
    expect(errorOf(() => load('bad-readonly.yaml')).message).toMatch(
      /bad-readonly\.yaml, line 1 \(readonly\): Invalid input: expected boolean/,
    );
  });

  it('says when a file named on the command line is not there', () => {
    const err = errorOf(() => loadSettings({ file: '/nonexistent/switchyard.yaml' }));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toBe(
      'config file /nonexistent/switchyard.yaml cannot be read (ENOENT): check the path given to --config',
    );
  });

  it('an empty file is an empty config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yard-config-'));
    writeFileSync(join(dir, 'empty.yaml'), '# nothing yet\n');
    expect(loadSettings({ file: join(dir, 'empty.yaml') }).keymap).toEqual(KEYMAP);
  });
});

describe('key names', () => {
  it('accepts what operators write, in blessed spelling', () => {
    expect(normaliseKey('q')).toBe('q');
    expect(normaliseKey('G')).toBe('S-g');
    expect(normaliseKey('?')).toBe('?');
    expect(normaliseKey('Esc')).toBe('escape');
    expect(normaliseKey('PgDn')).toBe('pagedown');
    expect(normaliseKey('C-r')).toBe('C-r');
    expect(normaliseKey('C-R')).toBe('C-r');
    expect(normaliseKey('M-x')).toBe('M-x');
    expect(normaliseKey('S-tab')).toBe('S-tab');
    expect(normaliseKey('f5')).toBe('f5');
  });

  it('refuses what is not a key', () => {
    for (const bad of ['ctrl+q', 'qq', '', 'C-', 'f13', 'é', 'hyper-x']) expect(normaliseKey(bad), bad).toBeUndefined();
  });
});
