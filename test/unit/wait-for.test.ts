import { describe, expect, it } from 'vitest';
import { assertBuilt, tempDir, waitFor, YardProcess } from '../helpers/procs.js';

/** The tests' waits: a crash of the process under test ends them at once instead of costing the whole timeout. */
describe('waiting on a process under test', () => {
  it('fails at once when yard exits before printing what is awaited, with its exit code and output', async () => {
    assertBuilt();
    const yard = new YardProcess(['controller', '--data-dir', tempDir(), '--heartbeat', 'banana']);
    let exitedAt = Number.NaN;
    void yard.exited.then(() => (exitedAt = Date.now()));
    const err = (await yard.waitForOutput(/controller listening/, 15_000).catch((e: unknown) => e)) as Error;
    // Node's start-up may take seconds on a busy host: what counts is the time after the exit.
    expect(Date.now() - exitedAt).toBeLessThan(1000);
    expect(err.message).toMatch(
      /^yard exited with 2 before printing \/controller listening\/:\nyard: --heartbeat "banana" is not a duration/,
    );
  });

  it('keeps probing through other errors until the value comes', async () => {
    let probes = 0;
    const value = await waitFor(
      'the third probe',
      () => {
        if (++probes < 3) throw new Error('not yet');
        return probes;
      },
      5000,
      10,
    );
    expect(value).toBe(3);
  });
});
