// `yard access grant --expires`: the lifetimes an operator writes, and the ones refused before
// anything is issued.
import { describe, expect, it } from 'vitest';
import { parseExpires } from '../../src/cli/commands/access.js';

const DAY_MS = 86_400_000;

describe('--expires', () => {
  it.each([
    ['30d', 30 * DAY_MS],
    ['2w', 14 * DAY_MS],
    ['1y', 365 * DAY_MS],
    ['5y', 5 * 365 * DAY_MS],
    ['8h', 8 * 3_600_000],
    ['90s', 90_000],
    ['1.5d', 1.5 * DAY_MS],
  ])('takes %s', (text, ms) => {
    expect(parseExpires(text)).toBe(ms);
  });

  it.each(['soon', '', '0d', '-1d', '30 days', '6y', '1826d'])('refuses "%s", saying what it takes', (text) => {
    expect(() => parseExpires(text)).toThrow(
      /--expires ".*" (is not a lifetime: use e\.g\. 8h, 30d|must be more than 0 and at most 5 years)/,
    );
  });
});
