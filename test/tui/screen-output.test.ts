import blessed from 'blessed';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createScreen, SYNC_BEGIN, SYNC_END } from '../../src/tui/screen.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('the screen writes frames', () => {
  let screen: blessed.Widgets.Screen | undefined;
  afterEach(() => {
    screen?.destroy();
    screen = undefined;
  });

  function headless(): { screen: blessed.Widgets.Screen; written: () => string } {
    const output = new PassThrough();
    let out = '';
    output.on('data', (d: Buffer) => (out += d.toString('utf8')));
    screen = createScreen({ input: new PassThrough(), output, cols: 80, rows: 24, ascii: false });
    return { screen, written: () => out };
  }

  it('each frame in one write inside synchronized output (DEC mode 2026)', async () => {
    const { screen, written } = headless();
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: 20, height: 3, content: 'first' });
    await tick();
    const before = written().length;
    screen.render();
    await tick();
    box.setContent('second');
    screen.render();
    await tick();
    const frames = written().slice(before);
    // Two frames, each whole between its own begin and end, nothing written outside them.
    expect(frames.split(SYNC_BEGIN).length - 1).toBe(2);
    expect(frames.split(SYNC_END).length - 1).toBe(2);
    expect(frames.startsWith(SYNC_BEGIN)).toBe(true);
    expect(frames.endsWith(SYNC_END)).toBe(true);
    const [first, second] = frames.split(SYNC_END);
    expect(first).toContain('first');
    expect(second).toContain('second');
  });

  it('a frame with nothing changed writes nothing', async () => {
    const { screen, written } = headless();
    blessed.box({ parent: screen, top: 0, left: 0, width: 20, height: 3, content: 'still' });
    screen.render();
    await tick();
    const before = written().length;
    screen.render();
    await tick();
    expect(written().slice(before)).toBe('');
  });

  it('resizing a box with a title draws nothing by itself: the next frame does', async () => {
    const { screen } = headless();
    const box = blessed.box({
      parent: screen,
      top: 0,
      left: 0,
      width: 30,
      height: 5,
      border: { type: 'line' },
      content: 'body',
    });
    box.setLabel(' title ');
    screen.render();
    let renders = 0;
    screen.on('render', () => renders++);
    for (let width = 31; width < 41; width++) box.width = width;
    box.height = 6;
    await tick();
    await tick();
    expect(renders).toBe(0);
    // The title stays on the border row, where blessed keeps it.
    screen.render();
    const top = (screen as unknown as { lines: [number, string][][] }).lines[0]!.map((c) => c[1]).join('');
    expect(top).toMatch(/^┌─ title ─+┐/);
  });
});
