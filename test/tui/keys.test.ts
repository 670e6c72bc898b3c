import { afterEach, describe, expect, it } from 'vitest';
import { KEYMAP, bindingFor, type KeyBinding } from '../../src/tui/keymap.js';
import { UNICODE_GLYPHS } from '../../src/tui/glyphs.js';
import { loadTheme } from '../../src/tui/theme.js';
import { VIEWS } from '../../src/tui/views/index.js';
import { helpLines } from '../../src/tui/widgets/help-overlay.js';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

describe('keys', () => {
  it('? shows help listing every keymap entry and every view', async () => {
    h = openHeadless(sampleFleet(), { cols: 160, rows: 48 });
    await h.press('?');
    const lines = h.text().split('\n');
    for (const binding of KEYMAP) {
      const row = lines.find((l) => l.includes(binding.description));
      expect(row, binding.description).toBeDefined();
      expect(row).toContain(binding.label);
      expect(row).toContain(binding.when.join(', '));
    }
    for (const view of Object.values(VIEWS)) expect(h.text()).toContain(view.description);
    await h.press(KEY.escape);
    expect(h.text()).not.toContain(KEYMAP[0]!.description);
    expect(h.text()).toContain('gpu-a100-01');
  });

  it('help scrolls with j/k when the keymap is longer than the screen', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('?');
    const first = KEYMAP[0]!.description;
    const last = KEYMAP[KEYMAP.length - 1]!.description;
    expect(h.text()).toContain(first);
    expect(h.text()).not.toContain(last);
    await h.press(...'jjjjjjjjjjjjjjjjjjjj');
    expect(h.text()).toContain(last);
    expect(h.text()).not.toContain(first);
    expect(h.text().split('\n')[23]).toMatch(/Esc\/q close +j\/down scroll/);
  });

  it('help is generated from the keymap it is given, not written by hand', () => {
    const look = { theme: loadTheme('mono'), glyphs: UNICODE_GLYPHS };
    const made: KeyBinding = { keys: ['x'], label: 'x', description: 'a binding only this test has', when: ['fleet'], action: () => {} };
    const lines = helpLines([made], VIEWS, look);
    expect(lines.filter((l) => l.includes('a binding only this test has'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(KEYMAP[0]!.description);
  });

  it('every key a context answers to is bound once there', () => {
    for (const binding of KEYMAP) {
      for (const context of binding.when) {
        for (const key of binding.keys) expect(bindingFor(context, key), `${context} ${key}`).toBe(binding);
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
});
