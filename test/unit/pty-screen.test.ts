import { afterEach, describe, expect, it } from 'vitest';
import { PtyScreen } from '../../bench/pty-screen.js';

/** The pty harness every terminal test and bench uses: what it waits for, and what environment it gives. */
describe('the pty harness', () => {
  const opened: PtyScreen[] = [];
  const pty = (file: string, args: string[], env?: Record<string, string>): PtyScreen => {
    const p = new PtyScreen(file, args, { label: 'the program', env });
    opened.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((p) => p.stop()));
  });

  it('fails a wait at once when the program exits, with its exit code and last output', async () => {
    const p = pty('/bin/sh', ['-c', 'echo it broke; exit 3']);
    const t0 = Date.now();
    const err = await p.waitFor('a screen it never draws', 15_000).catch((e: unknown) => e as Error);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^the program exited \(code 3\) before the screen showed a screen it never draws; its screen:\nit broke/,
    );
    expect((err as Error).message).toContain('its last output: "it broke\\r\\n"');
  });

  it('still returns a screen that matched before the program exited', async () => {
    const p = pty('/bin/sh', ['-c', 'echo all done']);
    expect(await p.exited).toBe(0);
    expect(await p.waitFor('all done', 1000)).toMatch(/^all done/);
  });

  it('times out with the screen while the program runs on', async () => {
    const p = pty('/bin/sh', ['-c', 'echo waiting; sleep 10']);
    await expect(p.waitFor('never', 300)).rejects.toThrow(
      /^the program did not show never within 300 ms; its screen:\nwaiting/,
    );
  });

  it('runs the program in a scrubbed environment: no host colour, locale, size or XDG settings', async () => {
    const host = {
      NO_COLOR: '1',
      FORCE_COLOR: '3',
      TERM: 'dumb',
      LANG: 'fr_FR.ISO-8859-1',
      LC_ALL: 'fr_FR',
      LC_CTYPE: 'fr_FR',
      COLUMNS: '7',
      LINES: '3',
      XDG_STATE_HOME: '/host/state',
      XDG_CONFIG_HOME: '/host/config',
      NODE_ENV: 'test',
    };
    const saved = Object.fromEntries(Object.keys(host).map((k) => [k, process.env[k]]));
    Object.assign(process.env, host);
    let p: PtyScreen;
    try {
      // A moment after env prints: a program that exits at once can lose its last output in the pty.
      p = pty('/bin/sh', ['-c', '/usr/bin/env; sleep 0.3'], { YARD_EXTRA: 'kept' });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    await p.exited;
    const env = new Map(
      p.raw
        .split(/\r?\n/)
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(
      [...env.keys()].filter((k) => /^(NO_COLOR|FORCE_COLOR|LC_\w+|COLUMNS|LINES|XDG_STATE_HOME|NODE_ENV)$/.test(k)),
    ).toEqual([]);
    expect(env.get('TERM')).toBe('xterm-256color');
    expect(env.get('LANG')).toBe('C.UTF-8');
    expect(env.get('XDG_CONFIG_HOME')).toBe('/nonexistent');
    expect(env.get('YARD_EXTRA')).toBe('kept');
    expect(env.get('PATH')).toBe(process.env.PATH);
  });
});
