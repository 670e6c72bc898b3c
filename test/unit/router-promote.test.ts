import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { YardError } from '../../src/core/errors.js';
import { BackendHealth, type EndpointStats, type Route } from '../../src/core/route.js';
import { PromotionState, type PromoteRouteResponse } from '../../src/gen/switchyard/v1/control.js';
import { endpointStats, route, routerFixture, type RouterFixture } from './router-fixture.js';

const BLUE = '127.0.0.1:9001';
const GREEN = '127.0.0.1:9002';
const weightsOf = (r: Route | undefined) => Object.fromEntries((r?.backends ?? []).map((b) => [b.version, b.weight]));

describe('Router: promote', () => {
  let f: RouterFixture;
  let green: Partial<EndpointStats>;
  let reporter: NodeJS.Timeout;
  beforeEach(async () => {
    f = await routerFixture();
    f.connect('edge');
    await f.router.apply(
      [
        route('web', 'edge', 80, [
          { address: BLUE, weight: 100, version: 'blue' },
          { address: GREEN, weight: 0, version: 'green' },
        ]),
      ],
      'ann',
    );
    // The proxy's heartbeat, every 10 ms, with whatever the test says about green.
    green = {};
    reporter = setInterval(() => {
      f.router.report('edge', [
        {
          name: 'web',
          revision: 1,
          listening: true,
          error: '',
          heldTotal: 0,
          heldNow: 0,
          heldMaxMs: 0,
          refused: 0,
          active: 0,
          total: 0,
          endpoints: [endpointStats(BLUE), endpointStats(GREEN, green)],
        },
      ]);
    }, 10);
  });
  afterEach(() => {
    clearInterval(reporter);
    f.cleanup();
  });

  it('shifts traffic step by step while the version stays healthy, then is DONE', async () => {
    const steps: PromoteRouteResponse[] = [];
    const final = await f.router.promote('web', 'green', { steps: [50, 100], intervalMs: 60 }, 'ann', (p) =>
      steps.push(p),
    );
    expect(steps.map((s) => [s.state, s.step, s.steps, s.percent, s.route!.promotion])).toEqual([
      [PromotionState.PROMOTION_STATE_STEP, 1, 2, 50, 'promoting green: 50% (step 1 of 2)'],
      [PromotionState.PROMOTION_STATE_STEP, 2, 2, 100, 'promoting green: 100% (step 2 of 2)'],
    ]);
    expect(final).toMatchObject({
      state: PromotionState.PROMOTION_STATE_DONE,
      step: 2,
      percent: 100,
      message: 'green takes all the traffic of web',
    });
    expect(weightsOf(f.store.route('web'))).toEqual({ blue: 0, green: 100 });
    expect(f.router.get('web').promotion).toBe('');
    expect(
      f.router
        .changes('web')
        .slice(0, 2)
        .map((c) => [c.action, c.note]),
    ).toEqual([
      ['promote', 'green 100% (step 2 of 2)'],
      ['promote', 'green 50% (step 1 of 2)'],
    ]);
  });

  it("starts from the version's share now: a version at 30% never drops to 5% first", async () => {
    await f.router.setWeights('web', { blue: 70, green: 30 }, 'ann');
    const seen: number[] = [];
    const final = await f.router.promote('web', 'green', { steps: [5, 25, 50, 100], intervalMs: 40 }, 'ann', (p) =>
      seen.push(p.percent, weightsOf(f.store.route('web')).green!),
    );
    expect(seen).toEqual([50, 50, 100, 100]);
    expect(final).toMatchObject({ state: PromotionState.PROMOTION_STATE_DONE, step: 2, steps: 2, percent: 100 });
    expect(
      f.router
        .changes('web')
        .filter((c) => c.action === 'promote')
        .map((c) => c.note),
    ).toEqual(['green 100% (step 2 of 2)', 'green 50% (step 1 of 2)']);
  });

  it('halts and restores the table it started from when the version turns unhealthy', async () => {
    const final = await f.router.promote('web', 'green', { steps: [25, 100], intervalMs: 200 }, 'ann', () => {
      green = {
        health: BackendHealth.BACKEND_HEALTH_UNHEALTHY,
        healthDetail: 'connect refused 3× in a row',
        checksPassing: false,
      };
    });
    expect(final).toMatchObject({ state: PromotionState.PROMOTION_STATE_REVERTED, step: 1, percent: 25 });
    expect(final.message).toMatch(
      /^promotion of green halted at 25%: backend 127\.0\.0\.1:9002 is unhealthy: connect refused 3× in a row; web is back/,
    );
    expect(weightsOf(f.store.route('web'))).toEqual({ blue: 100, green: 0 });
    const [last] = f.router.changes('web');
    expect(last).toMatchObject({
      action: 'rollback',
      note: 'promotion of green halted: backend 127.0.0.1:9002 is unhealthy: connect refused 3× in a row',
    });
    expect(f.links.last('edge')![0]!.endpoints.map((e) => e.weight)).toEqual([100, 0]);
  });

  it("halts when the version's connect errors grow", async () => {
    const final = await f.router.promote(
      'web',
      'green',
      { steps: [100], intervalMs: 200 },
      'ann',
      () => (green = { connectErrors: 2 }),
    );
    expect(final.state).toBe(PromotionState.PROMOTION_STATE_REVERTED);
    expect(final.message).toMatch(/backend 127\.0\.0\.1:9002 had 2 connect errors/);
  });

  it('halts when the version does not pass its checks by the end of a step', async () => {
    green = { checksPassing: false, health: BackendHealth.BACKEND_HEALTH_UNSPECIFIED, healthDetail: 'pending' };
    const final = await f.router.promote('web', 'green', { steps: [100], intervalMs: 50 }, 'ann');
    expect(final.message).toMatch(/backend 127\.0\.0\.1:9002 is not passing its health checks \(pending\)/);
  });

  it('runs one promotion of a service at a time, and checks its arguments first', async () => {
    const first = f.router.promote('web', 'green', { steps: [100], intervalMs: 100 }, 'ann');
    await expect(f.router.promote('web', 'green', {}, 'bob')).rejects.toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/web is already being promoted/),
    });
    expect((await first).state).toBe(PromotionState.PROMOTION_STATE_DONE);
    await expect(f.router.promote('web', 'purple', {}, 'bob')).rejects.toThrow(/no backend with version "purple"/);
    await expect(f.router.promote('web', 'green', { steps: [50, 25] }, 'bob')).rejects.toThrow(/rising/);
    await expect(f.router.promote('nope', 'green', {}, 'bob')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reverts when its proxy refuses a step', async () => {
    let steps = 0;
    const final = await f.router.promote('web', 'green', { steps: [50, 100], intervalMs: 30 }, 'ann', () => {
      if (++steps === 1) f.links.refuseNext.set('edge', new YardError('INTERNAL', 'proxy broke'));
    });
    expect(final).toMatchObject({ state: PromotionState.PROMOTION_STATE_REVERTED, step: 2 });
    expect(final.message).toMatch(/step 2 \(100%\) could not be applied: proxy broke/);
    expect(weightsOf(f.store.route('web'))).toEqual({ blue: 100, green: 0 });
  });
});
