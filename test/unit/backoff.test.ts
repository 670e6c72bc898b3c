import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/agent/backoff.js';

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
