// The footer's one line: a message too long for it is cut at a word with an ellipsis, never
// in the middle of a word or a number; a prompt being typed keeps what fits of it, as typed.
import { afterEach, describe, expect, it } from 'vitest';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

/** The footer's left part (without the view's status on the right) after `keys`, at `cols`. */
async function footerAfter(cols: number, keys: string[]): Promise<string> {
  h?.close();
  h = openHeadless(sampleFleet(), { cols, rows: 24 });
  await h.press(...keys);
  return (h.text().split('\n').at(-1) ?? '').replace(/ +3 servers( +page \d\/\d)?$/, '');
}

describe('footer', () => {
  it('cuts a long notice at a word, with an ellipsis, at every width', async () => {
    const keys = [':', ...'migrate nope-1234567890-abcdefghij', KEY.enter];
    const full = await footerAfter(300, keys);
    expect(full).toMatch(/^ No workload named "nope-1234567890-abcdefghij": /);
    for (const cols of [60, 80, 100, 120]) {
      const line = await footerAfter(cols, keys);
      expect(line, `${cols}`).toMatch(/[^ ]…$/);
      // What is shown is the whole line up to a space: never "named \"nope-12…".
      const kept = line.slice(0, -1);
      expect(full.startsWith(kept) && full[kept.length] === ' ', `${cols}: "${line}"`).toBe(true);
    }
  });

  it('keeps a long prompt as typed, up to the edge', async () => {
    const keys = [...':migrate a-very-long-name-that-goes-on-and-on-past-the-edge'];
    const full = await footerAfter(300, keys);
    const line = await footerAfter(60, keys);
    expect(line.length).toBeGreaterThan(30);
    expect(line).not.toContain('…');
    expect(full.startsWith(line), `"${line}"`).toBe(true);
  });
});
