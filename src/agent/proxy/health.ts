// Active health checks of one endpoint: when to check, and what the results add up to.
import { pendingRecheckMs, sameSettings, type HealthSettings } from './health-settings.js';
import { probe, type ProbeTarget } from './probe.js';

/**
 * pending: never passed (new connections wait for it rather than being refused); it goes
 * unhealthy after `unhealthyAfter` failed checks, or, within a start grace, not before the grace ends;
 * healthy; degraded: failing, or refusing client connects, but under the threshold (still
 * takes connections); unhealthy: past the threshold, until it passes `healthyAfter` times.
 */
export type HealthState = 'pending' | 'healthy' | 'degraded' | 'unhealthy';

export class HealthChecker {
  private state: HealthState = 'pending';
  private passes = 0;
  private fails = 0;
  private lastPassed = false;
  /** What the last failing check said, e.g. "connect refused". */
  private failure = '';
  /** Why it went unhealthy, kept while it recovers. */
  private why = '';
  private connectErrorAt = 0;
  private connectError = '';
  private timer?: NodeJS.Timeout;
  private inFlight = false;
  private stopped = false;
  /** Until when (Date.now() ms) failed checks of a never-passed endpoint keep it pending. */
  private readonly graceUntil: number;

  /**
   * `startGraceMs`: an instance known to be starting (released from a cut-over) may fail its
   * first checks for this long while it comes up; 0 for none.
   */
  constructor(
    private readonly target: ProbeTarget,
    private settings: HealthSettings,
    private readonly onChange: (state: HealthState, detail: string) => void,
    startGraceMs = 0,
  ) {
    this.graceUntil = startGraceMs > 0 ? Date.now() + startGraceMs : 0;
    this.run();
  }

  /** The state as reported: a client connect that failed within the last interval degrades a healthy endpoint. */
  get status(): HealthState {
    if (
      this.state === 'healthy' &&
      this.connectErrorAt > 0 &&
      Date.now() - this.connectErrorAt < this.settings.intervalMs
    )
      return 'degraded';
    return this.state;
  }

  get pending(): boolean {
    return this.state === 'pending';
  }

  /** Healthy or degraded: it may take new connections. */
  get passable(): boolean {
    return this.state === 'healthy' || this.state === 'degraded';
  }

  /** The last check passed. */
  get passing(): boolean {
    return this.lastPassed;
  }

  get detail(): string {
    switch (this.status) {
      case 'pending':
        if (this.fails === 0) return 'not checked yet';
        return Date.now() < this.graceUntil
          ? `starting: ${this.failure} ${this.fails}× in a row, never passed yet`
          : `${this.failure} ${this.fails}× in a row, never passed yet`;
      case 'healthy':
        return 'checks pass';
      case 'degraded':
        return this.fails > 0
          ? `${this.failure} ${this.fails}× in a row`
          : `${this.connectError} on a client connection`;
      case 'unhealthy':
        return this.passes > 0
          ? `${this.why}; passing again (${this.passes} of ${this.settings.healthyAfter})`
          : this.why;
    }
  }

  /** New settings take effect from the next check, which is rescheduled if one is waiting. */
  configure(settings: HealthSettings): void {
    if (sameSettings(settings, this.settings)) return;
    this.settings = settings;
    if (this.timer) {
      clearTimeout(this.timer);
      this.schedule();
    }
  }

  /** A client connection could not reach the endpoint. */
  noteConnectError(reason: string): void {
    this.connectErrorAt = Date.now();
    this.connectError = reason;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly run = (): void => {
    this.timer = undefined;
    if (this.stopped || this.inFlight) return;
    this.inFlight = true;
    void probe(this.target, this.settings).then((failure) => {
      this.inFlight = false;
      if (this.stopped) return;
      this.record(failure);
      this.schedule();
    });
  };

  private schedule(): void {
    const delay = this.state === 'pending' ? pendingRecheckMs(this.settings) : this.settings.intervalMs;
    this.timer = setTimeout(this.run, delay).unref();
  }

  private record(failure: string | undefined): void {
    const before = this.state;
    this.lastPassed = failure === undefined;
    if (failure === undefined) {
      this.fails = 0;
      this.passes++;
      if (this.state !== 'unhealthy' || this.passes >= this.settings.healthyAfter) this.state = 'healthy';
    } else {
      this.passes = 0;
      this.fails++;
      this.failure = failure;
      const starting = this.state === 'pending' && Date.now() < this.graceUntil;
      if (this.fails >= this.settings.unhealthyAfter && !starting) {
        if (this.state !== 'unhealthy') this.why = `${failure} ${this.fails}× in a row`;
        this.state = 'unhealthy';
      } else if (this.state === 'healthy') {
        this.state = 'degraded';
      }
    }
    if (this.state !== before) this.onChange(this.state, this.detail);
  }
}
