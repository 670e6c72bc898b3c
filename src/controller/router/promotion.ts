import { YardError, errorMessage } from '../../core/errors.js';
import { BackendHealth, promotionStep, stepsFrom, versionShare, type Route } from '../../core/route.js';
import type { EndpointState, RouteState } from '../../core/domain.js';
import { PromotionState, type PromoteRouteResponse } from '../../gen/switchyard/v1/control.js';

export type { PromoteRouteResponse };

export interface PromotionRun {
  service: string;
  version: string;
  /** The table when the promotion started: what a failed gate restores. */
  base: Route;
  /** The steps asked for; those at or below the version's share in `base` are skipped. */
  steps: number[];
  intervalMs: number;
  /** Aborted when the controller stops. */
  signal: AbortSignal;
  /** Applies a table as a recorded change (all or none). */
  change(table: Route, action: 'promote' | 'rollback', note: string): Promise<void>;
  status(): RouteState;
  /** Calls `seen` with each new status of the service until the returned function is called. */
  watch(seen: (s: RouteState) => void): () => void;
  /** What RouteState.promotion says meanwhile. */
  show(text: string): void;
  onStep?: (p: PromoteRouteResponse) => void;
}

function label(e: EndpointState): string {
  const ep = e.endpoint;
  return ep.address && ep.address !== ep.backend ? `${ep.backend} (${ep.address})` : ep.backend || ep.key;
}

const ofVersion = (s: RouteState, version: string) => s.endpoints.filter((e) => e.endpoint.version === version);

/** A failure the gate sees at once: an endpoint of the version unhealthy, or failing connects. */
function failing(s: RouteState, version: string, errorsAtStart: Map<string, number>): string | undefined {
  for (const e of ofVersion(s, version)) {
    if (e.stats?.health === BackendHealth.BACKEND_HEALTH_UNHEALTHY)
      return `backend ${label(e)} is unhealthy${e.stats.healthDetail ? `: ${e.stats.healthDetail}` : ''}`;
    const grew = (e.stats?.connectErrors ?? 0) - (errorsAtStart.get(e.endpoint.key) ?? 0);
    if (grew > 0) return `backend ${label(e)} had ${grew} connect error${grew > 1 ? 's' : ''}`;
  }
  return undefined;
}

/** At the end of a step every endpoint of the version must pass its checks. */
function notPassing(s: RouteState, version: string): string | undefined {
  const e = ofVersion(s, version).find((x) => !x.stats?.checksPassing);
  if (!e) return undefined;
  return e.stats
    ? `backend ${label(e)} is not passing its health checks${e.stats.healthDetail ? ` (${e.stats.healthDetail})` : ''}`
    : `backend ${label(e)} was not reported by its proxy`;
}

/** Watches one step for `intervalMs`; resolves with why it failed, or undefined when it passed. */
function gate(run: PromotionRun): Promise<string | undefined> {
  const start = new Map(ofVersion(run.status(), run.version).map((e) => [e.endpoint.key, e.stats?.connectErrors ?? 0]));
  return new Promise((resolve, reject) => {
    const done = (why: string | undefined) => {
      clearTimeout(timer);
      unwatch();
      run.signal.removeEventListener('abort', aborted);
      resolve(why);
    };
    const check = (s: RouteState, end: boolean) => {
      const why = failing(s, run.version, start) ?? (end ? notPassing(s, run.version) : undefined);
      if (why || end) done(why);
    };
    const guarded = (read: () => RouteState, end: boolean) => {
      try {
        check(read(), end);
      } catch (err) {
        done(errorMessage(err));
      }
    };
    const aborted = () => {
      clearTimeout(timer);
      unwatch();
      reject(
        new YardError(
          'UNAVAILABLE',
          `the controller stopped during the promotion of ${run.version} on ${run.service}; the table stays at the step it reached`,
          { route: run.service },
        ),
      );
    };
    const unwatch = run.watch((s) => guarded(() => s, false));
    const timer = setTimeout(() => guarded(() => run.status(), true), run.intervalMs);
    run.signal.addEventListener('abort', aborted, { once: true });
    if (run.signal.aborted) aborted();
  });
}

/**
 * Shifts traffic to a version step by step, each step held for the interval and gated on the
 * version's health; a failed gate (or a step its proxy refused) restores the base table.
 */
export async function runPromotion(run: PromotionRun): Promise<PromoteRouteResponse> {
  const { service, version } = run;
  const steps = stepsFrom(run.steps, versionShare(run.base, version));
  const reply = (state: PromotionState, i: number, message: string): PromoteRouteResponse => ({
    state,
    step: i + 1,
    steps: steps.length,
    percent: steps[i]!,
    message,
    route: run.status(),
  });
  for (let i = 0; i < steps.length; i++) {
    const pct = steps[i]!;
    const where = `${pct}% (step ${i + 1} of ${steps.length})`;
    let why: string | undefined;
    try {
      run.show(`promoting ${version}: ${where}`);
      await run.change(promotionStep(run.base, version, pct), 'promote', `${version} ${where}`);
      run.onStep?.(
        reply(
          PromotionState.PROMOTION_STATE_STEP,
          i,
          `${version} takes ${pct}% of ${service} (step ${i + 1} of ${steps.length})`,
        ),
      );
      why = await gate(run);
    } catch (err) {
      if (run.signal.aborted) throw err;
      why = `step ${i + 1} (${pct}%) could not be applied: ${errorMessage(err)}`;
    }
    if (why) {
      await run.change(run.base, 'rollback', `promotion of ${version} halted: ${why}`);
      return reply(
        PromotionState.PROMOTION_STATE_REVERTED,
        i,
        `promotion of ${version} halted at ${pct}%: ${why}; ${service} is back to its table from before the promotion`,
      );
    }
  }
  return reply(PromotionState.PROMOTION_STATE_DONE, steps.length - 1, `${version} takes all the traffic of ${service}`);
}
