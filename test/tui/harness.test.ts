import { afterEach, describe, expect, it } from 'vitest';
import { sampleFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

/** The headless harness's wait: a dashboard that quit fails it at once instead of costing its whole timeout. */
describe('the headless harness', () => {
  let h: Headless | undefined;
  afterEach(() => h?.close());

  it('fails a wait at once once the dashboard has quit', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.waitFor('gpu-a100-01');
    await h.press(KEY.ctrlC);
    expect(h.quits).toBe(1);
    const t0 = Date.now();
    await expect(h.waitFor('a screen it never draws', 3000)).rejects.toThrow(
      /^the dashboard quit before the screen showed a screen it never draws; it shows:\n/,
    );
    expect(Date.now() - t0).toBeLessThan(100);
  });
});
