import { afterEach, describe, expect, it } from 'vitest';
import { feed, FixtureFleet, makeServer, type HostSpec } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

// What a hostile or broken agent could claim before the controller refused control characters,
// and what a store written by an older version may still hold: it must draw as text.
const TAGS: HostSpec = { id: 'srv-tags', name: '{red-fg}x{/}', labels: { note: '{bold}loud{/bold}' }, cores: 4 };
const ESC: HostSpec = { id: 'srv-esc', name: 'evil\x1b[38;5;201mpink', labels: { t: '\x1b]0;pwned\x07' }, cores: 4 };

function hostileFleet(now: number): FixtureFleet {
  const fleet = new FixtureFleet();
  for (const spec of [TAGS, ESC]) {
    const server = makeServer(spec, now);
    fleet.add({ ...server, location: 'dc1\x1b[2J{blink}', hostname: `${spec.id}\x9b31m.example` });
    feed(fleet, spec, 10, now, 1);
  }
  return fleet;
}

let h: Headless | undefined;
afterEach(() => h?.close());

describe('names, labels and locations from agents', () => {
  it('draw literally on the fleet view: braces as braces, control characters as escapes', async () => {
    h = openHeadless(hostileFleet(Date.now()), { cols: 160, rows: 48 });
    await h.settle();
    const text = h.text();
    expect(text).toContain('{red-fg}x{/}');
    expect(text).toContain('note={bold}loud{/bold}');
    expect(text).toContain('evil\\x1b[38;5;201mpink');
    expect(text).toContain('t=\\x1b]0;pwned\\x07');
    const written = h.written();
    expect(written).not.toContain('\x1b[38;5;201m');
    expect(written).not.toContain('\x1b]0;pwned');
    expect(written).not.toContain('\x9b31m');
  });

  it('draw literally on the server view: host, labels and location', async () => {
    h = openHeadless(hostileFleet(Date.now()), { cols: 160, rows: 48 });
    await h.settle();
    await h.press(KEY.enter);
    const text = await h.waitFor('location');
    expect(text).toMatch(/location +dc1\\x1b\[2J\{blink\}/);
    expect(text).toMatch(/host +srv-[a-z]+\\x9b31m\.example/);
    expect(h.written()).not.toContain('\x1b[2J{');
    expect(h.written()).not.toContain('\x9b31m');
  });
});
