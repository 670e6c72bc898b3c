import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ptyYard, type PtyScreen } from '../helpers/pty.js';
import { assertBuilt, freePort, tempDir, waitFor } from '../helpers/procs.js';

/** The terminal these dashboards were written for. */
const SIZE = { cols: 120, rows: 40 };

/** The waits the agent announced in its log ("reconnecting in 16.3s"), in seconds. */
function announcedWaits(log: string): number[] {
  return [...readFileSync(log, 'utf8').matchAll(/reconnecting in ([\d.]+)s/g)].map((m) => Number(m[1]));
}

/**
 * `q` and a new `yard`: the local agent outlives the first dashboard and backs off while no
 * controller listens; the second dashboard prods it, so this host's card is online at once
 * instead of `? unknown` until the agent's next dial.
 */
describe('yard and its local agent across a dashboard restart', () => {
  const dir = tempDir('yard-redash-');
  const dashboards: PtyScreen[] = [];
  let agentPid = 0;

  afterAll(async () => {
    await Promise.all(dashboards.map((d) => d.stop()));
    if (agentPid > 0) process.kill(agentPid, 'SIGTERM');
  });

  it('a new yard finds its local agent waiting out a long backoff and has it online within seconds', async () => {
    assertBuilt();
    const args = ['--data-dir', dir, '--listen', `127.0.0.1:${await freePort()}`];
    const first = ptyYard(args, SIZE);
    dashboards.push(first);
    await first.waitFor(/1\/1 online/, 30_000);
    agentPid = Number(readFileSync(join(dir, 'agent', 'agent.pid'), 'utf8'));
    await first.press('q');
    await first.exited;

    // Its fifth failed dial announces a wait of about 16 s (13-19 s with jitter).
    const log = join(dir, 'agent', 'agent.log');
    await waitFor(
      'the local agent backing off for 12 s or more',
      () => announcedWaits(log).some((w) => w >= 12) || undefined,
      40_000,
      200,
    );
    const started = Date.now();
    const second = ptyYard(args, SIZE);
    dashboards.push(second);
    await second.waitFor(/1\/1 online/, 30_000);
    const took = Date.now() - started;
    // eslint-disable-next-line no-console
    console.log(
      `this host online ${took} ms after the second yard started (the agent had announced a ${Math.max(...announcedWaits(log))} s wait)`,
    );
    expect(took).toBeLessThan(8000);
    expect(readFileSync(log, 'utf8')).toMatch(/dialling controller .* now, as asked/);
  }, 120_000);
});
