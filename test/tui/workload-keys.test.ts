import { afterEach, describe, expect, it } from 'vitest';
import { LOG_LINES_KEPT } from '../../src/tui/widgets/logs-pane.js';
import { sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const CTRL_R = '\x12';
const CTRL_D = '\x04';
const footer = (h: Headless): string => h.text().split('\n').at(-1)!;
const row = (text: string, name: string): string => text.split('\n').find((l) => l.includes(` ${name} `)) ?? '';

/** The Workloads view with `name` selected (rows sort by name: api-gateway, embedder, nightly-etl, …). */
async function selecting(
  fleet: FixtureFleet,
  name: string,
  opts: { cols?: number; rows?: number; readonly?: boolean } = {},
): Promise<Headless> {
  const headless = openHeadless(fleet, {
    cols: opts.cols ?? 120,
    rows: opts.rows ?? 30,
    ...(opts.readonly ? { readonly: true } : {}),
  });
  await headless.press('w');
  const below = fleet.workloads().findIndex((w) => w.spec?.name === name);
  await headless.press(...Array.from({ length: below }, () => 'j'));
  expect(headless.text()).toContain(`▶ ${name}`);
  return headless;
}

function feed(fleet: FixtureFleet, name: string, text: string): void {
  fleet.workloadActions.streams.get(name)!.sink.data(Buffer.from(text));
}

describe('workload keys', () => {
  it('t tails the output in a pane that follows it; k scrolls back, G follows again, Esc closes and stops the stream', async () => {
    const fleet = sampleFleet();
    h = await selecting(fleet, 'trainer-llama', { cols: 80, rows: 24 });
    await h.press('t');
    expect(fleet.workloadActions.calls).toEqual([{ action: 'followLogs', name: 'trainer-llama' }]);
    expect(h.text()).toContain('Logs: trainer-llama on gpu-a100-01 · following');
    expect(h.text()).toContain('(no output yet)');
    // Pty output: colours, CRLF, a progress bar redrawn with \r: the pane shows the text.
    feed(fleet, 'trainer-llama', 'epoch 1 \x1b[32mok\x1b[0m\r\nstep 10%\rstep 100%\r\n');
    for (let i = 1; i <= 40; i++) feed(fleet, 'trainer-llama', `loss line ${i}\r\n`);
    let text = await h.waitFor('loss line 40');
    expect(text).not.toContain('loss line 10\n');
    expect(footer(h)).toMatch(/Esc\/q close +j\/down scroll +G\/End follow/);
    await h.press(...'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk');
    text = h.text();
    expect(text).toContain('epoch 1 ok');
    expect(text).toContain('step 100%');
    expect(text).not.toContain('step 10%');
    expect(text).toMatch(/lines up, G follows/);
    // New output while reading further up keeps the place.
    feed(fleet, 'trainer-llama', 'loss line 41\r\n');
    text = await h.waitFor(/\d+ lines up/);
    expect(text).not.toContain('loss line 41');
    await h.press('G');
    expect(h.text()).toContain('loss line 41');
    expect(h.text()).toContain('· following');
    fleet.workloadActions.streams.get('trainer-llama')!.sink.end();
    await h.waitFor('the output ended');
    await h.press(KEY.escape);
    expect(h.text()).not.toContain('Logs: trainer-llama');
    expect(h.text()).toContain('Workloads (5)');
    expect(fleet.workloadActions.streams.get('trainer-llama')!.closed).toBe(true);
  });

  it('keeps at most LOG_LINES_KEPT lines of a workload that prints fast', async () => {
    const fleet = sampleFleet();
    h = await selecting(fleet, 'embedder');
    await h.press('t');
    feed(fleet, 'embedder', Array.from({ length: LOG_LINES_KEPT + 500 }, (_, i) => `row ${i}`).join('\n') + '\n');
    await h.waitFor(`row ${LOG_LINES_KEPT + 499}`);
    await h.press('g');
    expect(h.text()).toMatch(/│ row 500 /);
    expect(h.text()).not.toMatch(/row 499\b/);
  });

  it('s asks before stopping a running workload; the row then shows how it ended', async () => {
    const fleet = sampleFleet();
    h = await selecting(fleet, 'api-gateway');
    await h.press('s');
    expect(h.text()).toContain('Stop api-gateway on gpu-t4-03?');
    await h.press('n');
    expect(fleet.workloadActions.calls).toEqual([]);
    await h.press('s', 'y');
    await h.waitFor('api-gateway: exited SIGTERM.');
    expect(fleet.workloadActions.calls).toEqual([{ action: 'stopWorkload', name: 'api-gateway' }]);
    expect(row(h.text(), 'api-gateway')).toMatch(/○ exited TERM /);
  });

  it('an exited workload shows its exit code; s says so, Ctrl-R starts it again without asking', async () => {
    const fleet = sampleFleet();
    h = await selecting(fleet, 'nightly-etl');
    expect(row(h.text(), 'nightly-etl')).toMatch(/○ exited 0 /);
    await h.press('s');
    expect(footer(h)).toContain('nightly-etl is already exited 0: C-r starts it again, C-d removes it.');
    await h.press(CTRL_R);
    await h.waitFor('nightly-etl restarted on cpu-web-02 (pid 4242).');
    expect(fleet.workloadActions.calls).toEqual([{ action: 'restartWorkload', name: 'nightly-etl' }]);
    expect(row(h.text(), 'nightly-etl')).toMatch(/● running/);
  });

  it('Ctrl-R on a running workload and Ctrl-D always ask first; Ctrl-D removes the row', async () => {
    const fleet = sampleFleet();
    h = await selecting(fleet, 'embedder');
    await h.press(CTRL_R);
    expect(h.text()).toContain('Restart embedder on gpu-a100-01? It is stopped first');
    await h.press(KEY.escape, CTRL_D);
    expect(h.text()).toMatch(
      /Remove embedder from gpu-a100-01\? Its spec and state[\s│]+directory are deleted there\. It is stopped first\./,
    );
    await h.press('y');
    await h.waitFor('embedder removed.');
    expect(fleet.workloadActions.calls).toEqual([{ action: 'removeWorkload', name: 'embedder' }]);
    expect(h.text()).toContain('Workloads (4)');
  });

  it("the server view's workloads pane takes the same keys after Tab", async () => {
    const fleet = sampleFleet();
    h = openHeadless(fleet, { cols: 160, rows: 48 });
    await h.press(':', ...'server gpu-a100-01', KEY.enter, KEY.tab, 'j', 't');
    expect(h.text()).toMatch(/Logs: trainer-llama on gpu-a100-01 · following/);
    await h.press(KEY.escape, 's');
    expect(h.text()).toContain('Stop trainer-llama on gpu-a100-01?');
  });

  it('a read-only dashboard tails logs but refuses stop, restart and remove; a wall refuses all of them', async () => {
    const fleet = sampleFleet();
    h = await selecting(fleet, 'api-gateway', { readonly: true });
    for (const [key, name] of [
      ['s', 's (stop-workload)'],
      [CTRL_R, 'C-r (restart-workload)'],
      [CTRL_D, 'C-d (remove-workload)'],
    ] as const) {
      await h.press(key);
      expect(footer(h)).toContain(`read-only: ${name} is off on this dashboard`);
      expect(h.text()).not.toContain('Are you sure?');
    }
    await h.press('t');
    expect(h.text()).toContain('Logs: api-gateway');
    h.close();
    h = openHeadless(fleet, { cols: 120, rows: 30, wall: { rotateMs: 60_000, views: ['workloads'] } });
    await h.press('t', 's', CTRL_D, 'y');
    expect(h.text()).not.toContain('Logs:');
    expect(fleet.workloadActions.calls).toEqual([{ action: 'followLogs', name: 'api-gateway' }]);
  });
});
