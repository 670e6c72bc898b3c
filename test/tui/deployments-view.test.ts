import { afterEach, describe, expect, it } from 'vitest';
import { HOSTS, sampleFleet, type FixtureFleet } from './fleet-fixture.js';
import { KEY, openHeadless, type Headless } from './harness.js';

let h: Headless | undefined;
afterEach(() => h?.close());

const fits = (text: string, cols: number): boolean => text.split('\n').every((l) => [...l].length <= cols);
const footer = (h: Headless): string => h.text().split('\n').at(-1)!;

/** Two deployments: web (3 replicas, one not healthy, behind the route web) and batch (1). */
function deployedFleet(): FixtureFleet {
  const fleet = sampleFleet();
  fleet.deploymentTable.put('web', [HOSTS.a100.id, HOSTS.web.id, HOSTS.t4.id], 1, 'web');
  fleet.deploymentTable.put('batch', [HOSTS.a100.id]);
  return fleet;
}

describe('deployments view', () => {
  for (const [cols, rows] of [
    [80, 24],
    [120, 40],
  ] as const)
    it(`lists each deployment with its replicas under it at ${cols}x${rows}, nothing over the width`, async () => {
      h = openHeadless(deployedFleet(), { cols, rows });
      await h.press('6');
      const text = h.text();
      const lines = text.split('\n');
      expect(lines).toHaveLength(rows);
      expect(fits(text, cols)).toBe(true);
      expect(lines[0]).toContain('Deployments');
      expect(text).toContain('Deployments (2)');
      expect(text).toMatch(/batch +v3 +1\/1 running 1 ok/);
      expect(text).toMatch(/web +v3 +3\/3 running 2 ok/);
      expect(text).toMatch(/web-3-a000 +v3 +gpu-a100-01 +● running/);
      expect(text).toMatch(/web-3-a002 +v3 +gpu-t4-03 +● running +✗/);
      expect(lines.at(-1)).toMatch(/\+ scale +C-r restart/);
      expect(lines.at(-1)).toContain('1 of 2 deployments short of healthy');
    });

  it('+ and - scale the selected deployment by one, after asking', async () => {
    const fleet = deployedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('6', 'j', 'j', '+');
    expect(h.text()).toContain('Scale web from 3 to 4 replicas?');
    await h.press('y');
    await h.waitFor('web: 4 replicas wanted, 3 running');
    await h.press('-', 'n');
    expect(fleet.deploymentTable.calls).toEqual(['scale web 4']);
    await h.press('-', 'y');
    await h.waitFor('web: 3 replicas wanted');
    expect(fleet.deploymentTable.calls).toEqual(['scale web 4', 'scale web 3']);
  });

  it('= asks for a count; C-r restarts, rolling', async () => {
    const fleet = deployedFleet();
    h = openHeadless(fleet, { cols: 120, rows: 30 });
    await h.press('6', '=');
    expect(footer(h)).toContain('replicas of batch (now 1): _');
    await h.press('x', KEY.enter);
    expect(footer(h)).toContain('The count must be a whole number, not "x": = asks again.');
    await h.press('=', '5', KEY.enter, 'y');
    await h.waitFor('batch: 5 replicas wanted');
    await h.press(KEY.ctrlR);
    expect(h.text()).toContain('Restart batch? Each replica is replaced by a new one');
    await h.press('y');
    await h.waitFor('batch: v4 rolls out');
    expect(fleet.deploymentTable.calls).toEqual(['scale batch 5', 'restart batch']);
  });

  it('says how to make one when there is none, and refuses to scale nothing', async () => {
    h = openHeadless(sampleFleet(), { cols: 80, rows: 24 });
    await h.press('6');
    expect(h.text()).toContain('No deployments yet: yard deploy apply -f app.yaml creates one.');
    await h.press('+');
    expect(footer(h)).toContain('No deployment here');
  });
});
