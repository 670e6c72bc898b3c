/**
 * How often agents beat, sized to the fleet the way Nomad sizes its heartbeat TTLs: the
 * controller takes at most `beatsPerSecond` heartbeats a second, so each agent beats every
 * max(base interval, agents / budget). A fleet within the budget keeps the base pace (1 s by
 * default, whose samples the dashboards chart); a larger one slows down evenly instead of
 * swamping the controller. Agents learn the pace from the welcome and from every ack.
 */
export interface HeartbeatBudgetOptions {
  /** The pace a small fleet keeps (`--heartbeat`). */
  baseIntervalMs: number;
  /** Heartbeats a second this controller takes at most (`--heartbeat-budget`). */
  beatsPerSecond: number;
  now?: () => number;
}

/**
 * The default budget. One beat costs the controller 0.09–0.15 ms of CPU (4,000 agents at 1 Hz
 * used 37 % of a core in the run; about 1,920 beats a second with listings took 29–33 %
 * in the README's), so 2,000 beats a second is a fifth to a third of a core: 1 Hz up to 2,000
 * agents, 5 s for the 10,000 a controller is meant to hold.
 */
export const DEFAULT_HEARTBEATS_PER_SECOND = 2000;

/** A session quiet for this many intervals is late; never less than MIN_TTL_MS. */
const TTL_INTERVALS = 3;
const MIN_TTL_MS = 3000;

export class HeartbeatBudget {
  private readonly now: () => number;
  /** The longest interval handed out lately, and when every agent told it has beaten again. */
  private held = { intervalMs: 0, untilMs: 0 };

  constructor(private readonly opts: HeartbeatBudgetOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The interval to tell an agent now, with `agents` connected. */
  intervalMs(agents: number): number {
    const { baseIntervalMs, beatsPerSecond } = this.opts;
    const intervalMs = Math.max(baseIntervalMs, Math.ceil((agents * 1000) / beatsPerSecond));
    const now = this.now();
    if (intervalMs >= this.held.intervalMs || now > this.held.untilMs)
      this.held = { intervalMs, untilMs: now + intervalMs };
    return intervalMs;
  }

  /**
   * How long a session may be quiet before it is late. It follows the longest interval handed
   * out until every agent told it has beaten again: when the fleet shrinks, agents still on the
   * slower pace are not called late for keeping it.
   */
  ttlMs(): number {
    const intervalMs = Math.max(this.held.intervalMs, this.opts.baseIntervalMs);
    return Math.max(TTL_INTERVALS * intervalMs, MIN_TTL_MS);
  }
}
