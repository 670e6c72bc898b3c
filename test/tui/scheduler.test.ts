import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_FPS, RenderScheduler } from '../../src/tui/scheduler.js';

describe('render scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('coalesces any number of changes into at most MAX_FPS frames a second', () => {
    const draw = vi.fn();
    const part = { update: vi.fn() };
    const scheduler = new RenderScheduler(draw);
    // A busy fleet: a change every millisecond for a second.
    for (let ms = 0; ms < 1000; ms++) {
      scheduler.markDirty(part);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(1000);
    expect(draw.mock.calls.length).toBeLessThanOrEqual(MAX_FPS + 1);
    expect(draw.mock.calls.length).toBeGreaterThanOrEqual(MAX_FPS - 1);
    expect(part.update).toHaveBeenCalledTimes(draw.mock.calls.length);
  });

  it('renders at once on renderNow, updating only dirty parts', () => {
    const draw = vi.fn();
    const dirty = { update: vi.fn() };
    const clean = { update: vi.fn() };
    const scheduler = new RenderScheduler(draw);
    scheduler.markDirty(dirty);
    scheduler.renderNow();
    expect(draw).toHaveBeenCalledTimes(1);
    expect(dirty.update).toHaveBeenCalledTimes(1);
    expect(clean.update).not.toHaveBeenCalled();
    // The frame that was waiting is dropped: nothing is dirty any more.
    vi.advanceTimersByTime(1000);
    expect(draw).toHaveBeenCalledTimes(1);
  });

  it('draws nothing after stop', () => {
    const draw = vi.fn();
    const scheduler = new RenderScheduler(draw);
    scheduler.markDirty({ update() {} });
    scheduler.stop();
    scheduler.renderNow();
    vi.advanceTimersByTime(1000);
    expect(draw).not.toHaveBeenCalled();
  });
});
