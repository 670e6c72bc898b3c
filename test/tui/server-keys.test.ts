import { afterEach, describe, expect, it } from 'vitest';
import { DrainOutcome, DrainPhase } from '../../src/core/drain.js';
import { HOSTS, sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const footer = (h: Headless): string => h.text().split('\n').at(-1)!;

/** The Fleet grid with gpu-a100-01 selected (cards sort by name: cpu-web-02, gpu-a100-01, gpu-t4-03). */
async function selectingA100(fleet: FixtureFleet, opts: { cols?: number; rows?: number; readonly?: boolean } = {}) {
  const headless = openHeadless(fleet, {
    cols: opts.cols ?? 120,
    rows: opts.rows ?? 40,
    ...(opts.readonly ? { readonly: true } : {}),
  });
  await headless.press('l');
  expect(headless.text()).toContain('▶ gpu-a100-01');
  return headless;
}

describe('cordon and drain keys, and the badges on the cards', () => {
  it('c asks, then cordons the selected server: its card says so; c again uncordons it', async () => {
    const fleet = sampleFleet();
    h = await selectingA100(fleet);
    expect(h.text()).not.toContain('cordoned');
    await h.press('c');
    expect(h.text()).toContain('Cordon gpu-a100-01? No new work lands on it');
    await h.press('n');
    expect(fleet.serverActions.calls).toEqual([]);
    await h.press('c', 'y');
    await h.waitFor('gpu-a100-01 cordoned: c again uncordons it.');
    expect(fleet.serverActions.calls).toEqual([{ action: 'cordonServer', server: HOSTS.a100.id, cordoned: true }]);
    expect(h.text()).toMatch(/● online ⊘ cordoned/);

    await h.press('c');
    expect(h.text()).toContain('Uncordon gpu-a100-01? It takes new work again');
    await h.press('y');
    await h.waitFor('gpu-a100-01 uncordoned');
    expect(fleet.serverActions.calls.at(-1)).toEqual({
      action: 'cordonServer',
      server: HOSTS.a100.id,
      cordoned: false,
    });
    expect(h.text()).not.toContain('⊘ cordoned');
  });

  it('D asks, then drains the selected server: the card shows its progress, then drained', async () => {
    const fleet = sampleFleet();
    h = await selectingA100(fleet, { cols: 80, rows: 24 });
    await h.press('D');
    expect(h.text()).toMatch(/Drain gpu-a100-01\? It is cordoned, and its \d+ workloads? move/);
    await h.press('y');
    const live = fleet.get(HOSTS.a100.id)!.server.drain!.workloads.length;
    await h.waitFor(`Draining gpu-a100-01: ${live} workload`);
    expect(fleet.serverActions.calls).toEqual([{ action: 'drainServer', server: HOSTS.a100.id }]);
    expect(h.text()).toContain(`▽ draining 0/${live}`);

    await h.press('D');
    expect(footer(h)).toContain('gpu-a100-01 is already draining');
    await h.press('c');
    expect(footer(h)).toContain('gpu-a100-01 is draining: uncordon it once');
    // The server view says so on its state line.
    await h.press(KEY.enter);
    expect(h.text()).toMatch(new RegExp(`state +● online · ▽ draining 0/${live}`));
    await h.press(KEY.escape);

    // The controller says the drain ended: every workload moved.
    const s = fleet.get(HOSTS.a100.id)!.server;
    s.drain = {
      ...s.drain!,
      phase: DrainPhase.DRAIN_PHASE_DRAINED,
      finishedMs: Date.now(),
      workloads: s.drain!.workloads.map((w) => ({ ...w, outcome: DrainOutcome.DRAIN_OUTCOME_MOVED })),
    };
    fleet.setState(s.id, s.state, s.stateSinceMs);
    await h.waitFor('⊘ drained');
    expect(h.text()).not.toContain('▽ draining');
  });

  it('the keys work on the server view too, and a read-only dashboard refuses them', async () => {
    const fleet = sampleFleet();
    h = await selectingA100(fleet);
    await h.press(KEY.enter, 'c', 'y');
    await h.waitFor('gpu-a100-01 cordoned');
    expect(fleet.serverActions.calls).toEqual([{ action: 'cordonServer', server: HOSTS.a100.id, cordoned: true }]);
    h.close();

    const viewer = sampleFleet();
    h = await selectingA100(viewer, { readonly: true });
    await h.press('c', 'y', 'D', 'y');
    expect(viewer.serverActions.calls).toEqual([]);
    expect(footer(h)).toMatch(/read-only|refused|viewer/i);
  });
});
