import { describe, expect, it } from 'vitest';
import { Backoff, Rotation } from '../../src/agent/backoff.js';

describe('Backoff', () => {
  it('starts near 1 s, doubles to a 30 s ceiling with ±20 % jitter, and resets', () => {
    const mid = new Backoff(1000, 30_000, () => 0.5);
    expect([1, 2, 3, 4, 5, 6, 7].map(() => mid.next())).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    mid.reset();
    expect(mid.next()).toBe(1000);
    expect(new Backoff(1000, 30_000, () => 0).next()).toBe(800);
    expect(new Backoff(1000, 30_000, () => 1).next()).toBe(1200);
    expect(new Backoff(1000, 30_000, () => 0.5).max()).toBe(30000);
  });
});

describe('Rotation over several controllers', () => {
  const steady = () => new Backoff(1000, 30_000, () => 0.5);

  it('with one address is the plain backoff: the ramp on every failure, the longest wait on a refusal', () => {
    const r = new Rotation(['a:1'], steady());
    expect([1, 2, 3, 4].map(() => r.failed())).toEqual([
      { address: 'a:1', waitMs: 1000, roundOver: true },
      { address: 'a:1', waitMs: 2000, roundOver: true },
      { address: 'a:1', waitMs: 4000, roundOver: true },
      { address: 'a:1', waitMs: 8000, roundOver: true },
    ]);
    r.succeeded();
    expect(r.failed().waitMs).toBe(1000);
    expect(r.failed(true).waitMs).toBe(30_000);
  });

  it('moves on to the next address after one first step, and ramps only once the whole list failed in a row', () => {
    const r = new Rotation(['a:1', 'b:1', 'c:1'], steady());
    expect(r.current).toBe('a:1');
    const waits = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => r.failed());
    expect(waits.map((w) => w.address)).toEqual(['b:1', 'c:1', 'a:1', 'b:1', 'c:1', 'a:1', 'b:1', 'c:1', 'a:1']);
    // One step to each other controller; the ramp (1 s, 2 s, 4 s) only at the end of each full round.
    expect(waits.map((w) => w.waitMs)).toEqual([1000, 1000, 1000, 1000, 1000, 2000, 1000, 1000, 4000]);
    expect(waits.map((w) => w.roundOver)).toEqual([false, false, true, false, false, true, false, false, true]);
  });

  it('after a good session, losing that controller goes to the next one within one first step', () => {
    const r = new Rotation(['a:1', 'b:1'], new Backoff(1000, 30_000, () => 1));
    for (let i = 0; i < 6; i++) r.failed();
    expect(r.current).toBe('a:1');
    r.succeeded();
    // The longest a lost controller is replaced after: one step with the most jitter (1.2 s).
    expect(r.failed()).toEqual({ address: 'b:1', waitMs: 1200, roundOver: false });
    expect(r.failed()).toEqual({ address: 'a:1', waitMs: 1200, roundOver: true });
  });

  it('a refusal by one controller tries the next after one step; the longest wait only when the round ends on one', () => {
    const r = new Rotation(['a:1', 'b:1'], steady());
    expect(r.failed(true)).toEqual({ address: 'b:1', waitMs: 1000, roundOver: false });
    expect(r.failed(true)).toEqual({ address: 'a:1', waitMs: 30_000, roundOver: true });
    expect(r.again()).toBe(1000);
    expect(r.current).toBe('a:1');
  });

  it('needs an address', () => {
    expect(() => new Rotation([])).toThrow(/at least one address/);
  });
});
