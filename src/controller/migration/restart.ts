import { setTimeout as delay } from 'node:timers/promises';
import { YardError } from '../../core/errors.js';
import { isLive } from '../../core/format/words.js';
import { MigrationPhase as P } from '../../core/workload.js';
import { BackendHealth } from '../../gen/switchyard/v1/route.js';
import type { MigrationRun, Strategy } from './strategy.js';
import { IDLE_WAIT_MS, idleOrWarn, sum, type Traffic } from './traffic.js';
import { waitFor, WaitTimeout } from './wait.js';

/** The new instance's share of traffic at each step of the ramp. */
const RAMP_STEPS = [5, 25, 50, 100];
/** How long each ramp step holds before its health gate. */
const RAMP_STEP_MS = 1000;
/** How long a newcomer may take to pass its first health checks at the proxies. */
const HEALTHY_WAIT_MS = 30_000;
/** How long the source's open connections may take to finish before it is stopped anyway. */
const SOURCE_DRAIN_MS = 30_000;

/**
 * Stateless blue/green: a fresh instance starts on the target and is verified; a workload that
 * backs routes then takes a rising, health-gated share of traffic while the source drains.
 */
export const restart: Strategy = {
  movesState: false,
  async move(run) {
    await run.phase(P.MIGRATION_PHASE_RESTORING);
    const restoreStart = Date.now();
    // The new instance must not take traffic before it is verified and health-gated.
    await run.traffic?.split(splitOf(run, 0));
    const started = await run.startOnTarget(false);
    run.measured({ restoreMs: Date.now() - restoreStart, downtimeMs: 0 });
    await run.verify(started);
    const traffic = run.traffic;
    if (traffic) await shiftTraffic(run, traffic);
  },
  async trafficOffTarget(traffic, m) {
    await traffic.split({
      sourceServerId: m.sourceServerId,
      targetServerId: m.targetServerId,
      targetShare: 0,
      sourceDraining: false,
    });
    await traffic.idle(m.targetServerId, IDLE_WAIT_MS);
  },
};

function splitOf(run: MigrationRun, targetShare: number, sourceDraining = false) {
  return { sourceServerId: run.m.sourceServerId, targetServerId: run.m.targetServerId, targetShare, sourceDraining };
}

/**
 * The verified instance joins its routes at weight 0, must pass the proxies' health checks,
 * takes a rising share of traffic (each step health-gated), and the source drains before it is
 * stopped. A failed gate throws, and the rollback moves traffic back.
 */
async function shiftTraffic(run: MigrationRun, traffic: Traffic): Promise<void> {
  const started = Date.now();
  await traffic.split(splitOf(run, 0));
  await healthy(run, traffic, Date.now());
  for (const share of RAMP_STEPS) {
    run.signal.throwIfAborted();
    const errorsBefore = sum(traffic.stats(run.m.targetServerId).map((e) => e.connectErrors));
    await traffic.split(splitOf(run, share));
    await delay(RAMP_STEP_MS, undefined, { signal: run.signal }).catch(() => run.signal.throwIfAborted());
    const now = traffic.stats(run.m.targetServerId);
    const errors = sum(now.map((e) => e.connectErrors)) - errorsBefore;
    if (errors > 0 || now.some((e) => e.health === BackendHealth.BACKEND_HEALTH_UNHEALTHY)) {
      throw new YardError(
        'TRAFFIC_GATE',
        `${run.m.workload} on ${run.nameOf(run.m.targetServerId)} failed at ${share}% of traffic: ${errors > 0 ? `${errors} connect errors` : 'unhealthy at the proxies'}`,
      );
    }
  }
  await traffic.split(splitOf(run, 100, true));
  await idleOrWarn(
    run,
    traffic,
    run.m.sourceServerId,
    SOURCE_DRAIN_MS,
    'stopping the source with connections still open',
  );
  run.measured({ trafficShiftMs: Date.now() - started });
}

/** Every proxy reports the target's endpoint passing its checks since `sinceMs`; throws if it exits first. */
async function healthy(run: MigrationRun, traffic: Traffic, sinceMs: number): Promise<void> {
  const { workload, targetServerId } = run.m;
  const where = `${workload} on ${run.nameOf(targetServerId)}`;
  const passing = () => {
    const onTarget = run.onServer(targetServerId);
    if (!onTarget || !isLive(onTarget))
      throw new YardError(
        'TRAFFIC_GATE',
        `${workload} exited on ${run.nameOf(targetServerId)} before it passed the proxies' health checks: ${onTarget?.message || 'gone'}`,
      );
    const s = traffic.stats(targetServerId);
    return s.length > 0 && s.every((e) => e.reportedMs > sinceMs && e.checksPassing);
  };
  await waitFor(passing, { wakeOn: traffic.changes, timeoutMs: HEALTHY_WAIT_MS, signal: run.signal }).catch(
    (err: unknown) => {
      if (err instanceof WaitTimeout)
        throw new YardError(
          'TRAFFIC_GATE',
          `${where} did not pass the proxies' health checks within ${HEALTHY_WAIT_MS / 1000}s`,
        );
      throw err;
    },
  );
}
