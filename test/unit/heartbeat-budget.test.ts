import { describe, expect, it } from 'vitest';
import { DEFAULT_HEARTBEATS_PER_SECOND, HeartbeatBudget } from '../../src/controller/heartbeat-budget.js';

describe('HeartbeatBudget: the pace grows with the fleet, as Nomad sizes its TTLs', () => {
  const at = (start = 0) => {
    const clock = { now: start };
    return { clock, now: () => clock.now };
  };

  it('keeps the base pace while the fleet is within the budget, then spreads the budget over it', () => {
    const { now } = at();
    const b = new HeartbeatBudget({ baseIntervalMs: 1000, beatsPerSecond: 100, now });
    expect(b.intervalMs(1)).toBe(1000);
    expect(b.intervalMs(100)).toBe(1000);
    expect(b.intervalMs(150)).toBe(1500);
    expect(b.intervalMs(4000)).toBe(40_000);
    // 4,000 agents beating every 40 s is the budget: 100 beats a second.
    expect(4000 / (b.intervalMs(4000) / 1000)).toBe(100);
  });

  it('allows three intervals of silence, never less than 3 s', () => {
    const { now } = at();
    const small = new HeartbeatBudget({ baseIntervalMs: 200, beatsPerSecond: 100, now });
    small.intervalMs(5);
    expect(small.ttlMs()).toBe(3000);
    const large = new HeartbeatBudget({ baseIntervalMs: 1000, beatsPerSecond: 100, now });
    large.intervalMs(1000);
    expect(large.ttlMs()).toBe(30_000);
  });

  it('keeps the longer TTL after the fleet shrinks until every agent told the slower pace has beaten again', () => {
    const { clock, now } = at(1_000_000);
    const b = new HeartbeatBudget({ baseIntervalMs: 1000, beatsPerSecond: 100, now });
    expect(b.intervalMs(4000)).toBe(40_000);
    // Most of the fleet leaves: new beats are told 1 s, but an agent acked a moment ago still
    // waits 40 s for its next beat and must not be called late for it.
    clock.now += 1000;
    expect(b.intervalMs(50)).toBe(1000);
    expect(b.ttlMs()).toBe(120_000);
    clock.now += 39_500;
    expect(b.ttlMs()).toBe(120_000);
    // Past one slow interval every agent has beaten and been told the new pace.
    clock.now += 1000;
    expect(b.intervalMs(50)).toBe(1000);
    expect(b.ttlMs()).toBe(3000);
  });

  it('by default keeps 1 Hz up to 2,000 agents and beats every 5 s at 10,000', () => {
    const b = new HeartbeatBudget({ baseIntervalMs: 1000, beatsPerSecond: DEFAULT_HEARTBEATS_PER_SECOND });
    expect(b.intervalMs(2000)).toBe(1000);
    expect(b.intervalMs(10_000)).toBe(5000);
  });
});
