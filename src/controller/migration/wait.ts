/** Something whose events may change what a wait is waiting for (an EventEmitter, typed or not). */
export interface Wakes {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

export interface WaitOptions {
  /** The emitters and events that announce a change of the state `ready` reads. */
  wakeOn: [Wakes, ...string[]][];
  timeoutMs: number;
  /** Aborting rejects the wait with the signal's reason (a cancelled migration). */
  signal?: AbortSignal;
}

/** The deadline passed before the state was ready. */
export class WaitTimeout extends Error {}

/**
 * Resolves once `ready()` holds: checked at once, then after each event it wakes on, until the
 * deadline (rejects with WaitTimeout) or the signal's abort (rejects with its reason). A throw
 * from `ready` rejects with that error. The check runs in a microtask after the event, not inside
 * it: emitters announce mid-update (the registry says an agent said hello before its link is
 * attached), and a burst of events is checked once. Every listener and timer goes when it settles.
 */
export function waitFor(ready: () => boolean, o: WaitOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let queued = false;
    let done = false;
    const settle = (err?: unknown) => {
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', aborted);
      for (const [emitter, ...events] of o.wakeOn) for (const e of events) emitter.off(e, wake);
      if (err === undefined) resolve();
      else reject(err);
    };
    const check = () => {
      queued = false;
      if (done) return;
      try {
        if (ready()) settle();
      } catch (err) {
        settle(err);
      }
    };
    const wake = () => {
      if (queued) return;
      queued = true;
      queueMicrotask(check);
    };
    const aborted = () => settle(o.signal?.reason);
    const timer = setTimeout(() => settle(new WaitTimeout(`timed out after ${o.timeoutMs} ms`)), o.timeoutMs);
    if (o.signal?.aborted) return settle(o.signal.reason);
    o.signal?.addEventListener('abort', aborted, { once: true });
    for (const [emitter, ...events] of o.wakeOn) for (const e of events) emitter.on(e, wake);
    check();
  });
}

/** Like waitFor, but a deadline is an answer, not an error: whether `ready` held in time. */
export function waitUpTo(ready: () => boolean, o: WaitOptions): Promise<boolean> {
  return waitFor(ready, o).then(
    () => true,
    (err: unknown) => {
      if (err instanceof WaitTimeout) return false;
      throw err;
    },
  );
}
