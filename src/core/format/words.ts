import { endpointHealth, type EndpointStatus } from '../route.js';
import { WorkloadState, type Workload } from '../workload.js';

// Words for states that the CLI prints and the dashboard marks with a glyph and a colour. The
// server, workload and migration words themselves are the enums' names (core/types.ts,
// core/workload.ts); what is decided here is what a state means to someone reading it.

const LIVE = new Set<WorkloadState>([
  WorkloadState.WORKLOAD_STATE_RUNNING,
  WorkloadState.WORKLOAD_STATE_PAUSED,
  WorkloadState.WORKLOAD_STATE_BACKOFF,
  WorkloadState.WORKLOAD_STATE_CHECKPOINTING,
]);

/** A workload that is doing or will do work again: not a husk left by an exit or a checkpoint. */
export function isLive(w: Workload): boolean {
  return LIVE.has(w.state);
}

/** A workload with a process now, so a pid, an uptime and readings (one in backoff waits for its next). */
export function hasProcess(w: Workload): boolean {
  return isLive(w) && w.state !== WorkloadState.WORKLOAD_STATE_BACKOFF;
}

/**
 * "healthy", "standby", "degraded", "unhealthy", "draining", "unknown": a backend as its proxy
 * reports it; one being drained that the proxy has not reported on yet is draining, not unknown.
 */
export function healthWord(e: EndpointStatus): string {
  return e.endpoint?.draining && !e.stats ? 'draining' : endpointHealth(e);
}
