import { afterEach, describe, expect, it } from 'vitest';
import { commandTable, commandUsage } from '../../src/tui/commands.js';
import {
  GLOBAL_KEYS,
  KEYMAP,
  MOVING_KEYS,
  bindingFor,
  keyRuleBreaches,
  whereText,
  withKeys,
  type KeyBinding,
  type KeyContext,
} from '../../src/tui/keymap.js';
import { UNICODE_GLYPHS } from '../../src/tui/glyphs.js';
import { loadTheme } from '../../src/tui/theme.js';
import { VIEWS } from '../../src/tui/views/index.js';
import { helpLines } from '../../src/tui/widgets/help-overlay.js';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Overlapping screenfuls of the open help, 20 lines apart, until the text stops changing. */
async function helpPages(h: Headless): Promise<string[][]> {
  const pages = [h.text().split('\n')];
  for (let i = 0; i < 20; i++) {
    await h.press(...'jjjjjjjjjjjjjjjjjjjj');
    const page = h.text().split('\n');
    if (page.join('\n') === pages[pages.length - 1]!.join('\n')) break;
    pages.push(page);
  }
  return pages;
}

describe('keys', () => {
  it('? shows help listing every keymap entry, view and command', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('?');
    const pages = await helpPages(h);
    for (const binding of KEYMAP) {
      // A page where its line is not the first under the border, so a "where" above it shows too.
      const page = pages.find((p) => p.findIndex((l) => l.includes(binding.description)) > 2);
      expect(page, binding.description).toBeDefined();
      const at = page!.findIndex((l) => l.includes(binding.description));
      expect(page![at]).toContain(binding.label);
      // A long "where" has the line above to itself.
      expect(`${page![at - 1]}\n${page![at]}`).toContain(whereText(binding));
    }
    const all = pages.flat().join('\n');
    for (const view of Object.values(VIEWS)) expect(all).toContain(view.description);
    for (const command of commandTable(VIEWS))
      expect(all).toMatch(new RegExp(`${escapeRegExp(commandUsage(command))} +${escapeRegExp(command.description)}`));
    expect(all).toContain(':migrate [WORKLOAD]');
    await h.press(KEY.escape);
    expect(h.text()).not.toContain(KEYMAP[0]!.description);
    expect(h.text()).toContain('gpu-a100-01');
  });

  it('help lists the keys of the new views and the wizard', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('?');
    const all = (await helpPages(h)).flat().join('\n');
    expect(all).toMatch(/any view +w\/2 +show the Workloads view/);
    expect(all).toMatch(/any view +M\/3 +show the Migrations view/);
    expect(all).toMatch(/any view +f\/1 +show the Fleet view/);
    expect(all).toMatch(/any view +: +command line/);
    expect(all).toMatch(/v +move \(migrate\) the selected workload/);
    expect(all).toMatch(/progress +c +cancel the migration/);
    expect(all).toMatch(/ask +y +answer yes/);
  });

  it('help scrolls with j/k and pages when the keymap is longer than the screen', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('?');
    const first = KEYMAP[0]!.description;
    const last = KEYMAP[KEYMAP.length - 1]!.description;
    expect(h.text()).toContain(first);
    expect(h.text()).not.toContain(last);
    await h.press(...'jjjjj');
    expect(h.text()).not.toContain(first);
    for (let i = 0; i < 20 && !h.text().includes(last); i++) await h.press(KEY.pageDown);
    expect(h.text()).toContain(last);
    expect(h.text().split('\n')[23]).toMatch(/Esc\/q close +j\/down scroll/);
  });

  it('help is generated from the keymap it is given, not written by hand', () => {
    const look = { theme: loadTheme('mono'), glyphs: UNICODE_GLYPHS };
    const made: KeyBinding = {
      name: 'made',
      keys: ['x'],
      label: 'x',
      description: 'a binding only this test has',
      when: ['fleet'],
      action: () => {},
    };
    const lines = helpLines({ keymap: [made], views: VIEWS, commands: commandTable(VIEWS) }, look);
    expect(lines.filter((l) => l.includes('a binding only this test has'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(KEYMAP[0]!.description);
  });

  it('every key a context answers to is bound once there', () => {
    for (const binding of KEYMAP) {
      for (const context of binding.when) {
        for (const key of binding.keys) expect(bindingFor(KEYMAP, context, key), `${context} ${key}`).toBe(binding);
      }
    }
  });

  it('q quits: onQuit is called, the screen destroyed, the source unsubscribed', async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 80, rows: 24 });
    expect(fleet.listenerCount).toBe(1);
    await h.press('q');
    expect(h.quits).toBe(1);
    expect((h.dashboard.screen as unknown as { destroyed: boolean }).destroyed).toBe(true);
    expect(fleet.listenerCount).toBe(0);
    await h.press('q');
    expect(h.quits).toBe(1);
  });

  it('q types into the filter; C-c quits from anywhere', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('/', 'q');
    expect(h.quits).toBe(0);
    expect(h.text()).toContain('filter: /q');
    await h.press(KEY.ctrlC);
    expect(h.quits).toBe(1);
  });

  it('navigation keys mean the same in every view, and no action key is one Shift from one (k9s)', () => {
    expect(keyRuleBreaches(KEYMAP)).toEqual([]);
    // Walk it here too, key by key, so a failure names the view and the key.
    const views: KeyContext[] = [
      'fleet',
      'server',
      'server-workloads',
      'workloads',
      'migrations',
      'details',
      'routes',
      'deployments',
      'events',
    ];
    for (const key of GLOBAL_KEYS.filter((k) => k !== '/')) {
      expect(new Set(views.map((v) => bindingFor(KEYMAP, v, key)?.name)), key).toHaveProperty('size', 1);
    }
    for (const view of views) {
      for (const key of [...GLOBAL_KEYS, ...MOVING_KEYS]) {
        const partner = /^[a-z]$/.test(key) ? `S-${key}` : /^S-([a-z])$/.exec(key)?.[1];
        const other = partner ? bindingFor(KEYMAP, view, partner) : undefined;
        if (other)
          expect(
            [...GLOBAL_KEYS, ...MOVING_KEYS],
            `${view}: ${partner} (${other.name}) is one Shift from ${key}`,
          ).toContain(partner);
      }
    }
  });

  it('each view declares its own keys beside it, and the keymap gathers them with the global ones', () => {
    const keysOf = (context: KeyContext) => KEYMAP.filter((b) => b.when.includes(context)).map((b) => b.name);
    expect(keysOf('routes')).toEqual(
      expect.arrayContaining(['set-weight', 'promote', 'rollback', 'drain', 'first', 'filter', 'show-events', 'quit']),
    );
    expect(keysOf('workloads')).not.toContain('set-weight');
    expect(keysOf('events')).toEqual(
      expect.arrayContaining(['down', 'up', 'first', 'last', 'filter', 'clear-filter', 'show-fleet', 'help']),
    );
    expect(keysOf('events')).not.toContain('migrate');
    for (const view of ['fleet', 'server', 'workloads', 'migrations', 'routes', 'events'] as const)
      expect(bindingFor(KEYMAP, view, 'e')?.name, view).toBe('show-events');
    expect(bindingFor(KEYMAP, 'routes', '=')?.name).toBe('set-weight');
  });

  it('a view key acts on the view in front: = on Routes asks for a weight, on Workloads it does nothing', async () => {
    h = openHeadless(sampleFleet(), { cols: 120, rows: 30 });
    await h.press('w', '=');
    expect(h.text()).not.toContain('weight of');
    await h.press('e');
    expect(h.text().split('\n')[0]).toContain('Events');
    await h.press(':', ...'events', KEY.enter);
    expect(h.text().split('\n')[0]).toContain('Events');
  });

  it('the rule catches the keys that used to change meaning: w for a weight, r beside R, m beside M', () => {
    expect(keyRuleBreaches(withKeys(KEYMAP, { 'set-weight': ['w'] }))).toContain(
      'w means show-workloads or set-weight depending on the view',
    );
    expect(keyRuleBreaches(withKeys(KEYMAP, { 'set-weight': ['e'] }))).toContain(
      'e means show-events or set-weight depending on the view',
    );
    expect(keyRuleBreaches(withKeys(KEYMAP, { rollback: ['r'] }))).toContain(
      'routes: r (rollback) is one Shift from R, a navigation key',
    );
    expect(keyRuleBreaches(withKeys(KEYMAP, { migrate: ['m'] }))).toContain(
      'workloads: m (migrate) is one Shift from M, a navigation key',
    );
    expect(keyRuleBreaches(withKeys(KEYMAP, { drain: ['j'] }))).toContain(
      'routes: j is drain, but it moves in every other view',
    );
    expect(keyRuleBreaches(withKeys(KEYMAP, { 'stop-workload': ['S-p'] }))).toEqual([]);
    expect(keyRuleBreaches(withKeys(KEYMAP, { promote: ['S-d'] }))).toContain(
      'routes: d (drain) and D (promote) are one Shift apart',
    );
    expect(keyRuleBreaches(withKeys(KEYMAP, { quit: ['C-q'] }))).toContain(
      'q does nothing in fleet, server, server-workloads, workloads, migrations, details, routes, deployments, events',
    );
  });
});
