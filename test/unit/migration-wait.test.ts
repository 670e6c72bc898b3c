import { EventEmitter, getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { waitFor, waitUpTo, WaitTimeout } from '../../src/controller/migration/wait.js';

/** A piece of state and the emitter that announces its changes, as the workload table does. */
function watched() {
  const emitter = new EventEmitter();
  const state = { ready: false };
  return { emitter, state, listeners: () => emitter.listenerCount('changed') + emitter.listenerCount('gone') };
}

describe('waitFor: a predicate over state, woken by events, bounded by a deadline and a cancel', () => {
  it('resolves on the event that makes it true, long before its deadline', async () => {
    const { emitter, state, listeners } = watched();
    const { signal } = new AbortController();
    const t0 = Date.now();
    const waiting = waitFor(() => state.ready, { wakeOn: [[emitter, 'changed', 'gone']], timeoutMs: 10_000, signal });
    expect(listeners()).toBe(2);
    setTimeout(() => {
      state.ready = true;
      emitter.emit('gone');
    }, 30);
    await waiting;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(listeners()).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('resolves at once when the state is already there, listening to nothing', async () => {
    const { emitter, state, listeners } = watched();
    state.ready = true;
    const waiting = waitFor(() => state.ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 10_000 });
    await waiting;
    expect(listeners()).toBe(0);
  });

  it('checks after the emitter finished its update, not in the middle of it', async () => {
    const { emitter, state } = watched();
    const waiting = waitFor(() => state.ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 1000 });
    // As the registry does: announce, then finish the change the waiter reads.
    emitter.emit('changed');
    state.ready = true;
    await waiting;
  });

  it('rejects with WaitTimeout at its deadline when no event made it true', async () => {
    const { emitter, state, listeners } = watched();
    const t0 = Date.now();
    const waiting = waitFor(() => state.ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 100 });
    emitter.emit('changed');
    await expect(waiting).rejects.toBeInstanceOf(WaitTimeout);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(listeners()).toBe(0);
  });

  it("rejects with the signal's reason when aborted, at once, and leaves no listener on the signal", async () => {
    const { emitter, state, listeners } = watched();
    const cancel = new AbortController();
    const { signal } = cancel;
    const t0 = Date.now();
    const waiting = waitFor(() => state.ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 10_000, signal });
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    setTimeout(() => cancel.abort(new Error('cancelled by an operator')), 20);
    await expect(waiting).rejects.toThrow('cancelled by an operator');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(listeners()).toBe(0);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once on a signal already aborted, without listening', async () => {
    const { emitter, state, listeners } = watched();
    const signal = AbortSignal.abort(new Error('cancelled before it began'));
    await expect(
      waitFor(() => state.ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 10_000, signal }),
    ).rejects.toThrow('cancelled before it began');
    expect(listeners()).toBe(0);
  });

  it('rejects with what the predicate throws (a failure seen in the state), and cleans up', async () => {
    const { emitter, listeners } = watched();
    let exited = false;
    const waiting = waitFor(
      () => {
        if (exited) throw new Error('the workload exited');
        return false;
      },
      { wakeOn: [[emitter, 'changed']], timeoutMs: 10_000 },
    );
    exited = true;
    emitter.emit('changed');
    await expect(waiting).rejects.toThrow('the workload exited');
    expect(listeners()).toBe(0);
  });

  it('checks a burst of events once', async () => {
    const { emitter, state } = watched();
    let checks = 0;
    const ready = () => {
      checks++;
      return state.ready;
    };
    const waiting = waitFor(ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 1000 });
    for (let i = 0; i < 50; i++) emitter.emit('changed');
    state.ready = true;
    await waiting;
    expect(checks).toBe(2);
  });

  it('waitUpTo answers false at the deadline instead of rejecting, and true when ready', async () => {
    const { emitter, state, listeners } = watched();
    expect(await waitUpTo(() => state.ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 50 })).toBe(false);
    setTimeout(() => {
      state.ready = true;
      emitter.emit('changed');
    }, 10);
    expect(await waitUpTo(() => state.ready, { wakeOn: [[emitter, 'changed']], timeoutMs: 5000 })).toBe(true);
    expect(listeners()).toBe(0);
  });
});
