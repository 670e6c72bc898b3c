// One workload as the supervisor tracks it across the runs of its process, and how it is
// shown (a Workload message).
import type { Backoff } from '../backoff.js';
import { WorkloadState, workloadStates, type Workload, type WorkloadSpec } from '../../core/workload.js';
import type { OutputLog } from './output-log.js';
import type { OutputRing } from './output-ring.js';
import type { ProcessExit, WorkloadProcess } from './process.js';
import type { SavedState } from './spec-store.js';

const S = WorkloadState;

/** States with a process, or one about to come back: a second copy must not start. */
export const LIVE = new Set<WorkloadState>([
  S.WORKLOAD_STATE_RUNNING,
  S.WORKLOAD_STATE_PAUSED,
  S.WORKLOAD_STATE_CHECKPOINTING,
  S.WORKLOAD_STATE_BACKOFF,
]);

export interface Viewer {
  onData: (d: Buffer) => void;
  onClose: (reason: string) => void;
}

/** One workload as the supervisor tracks it, across the runs of its process. */
export interface Slot {
  spec: WorkloadSpec;
  state: WorkloadState;
  message: string;
  proc?: WorkloadProcess;
  startedMs: number;
  exitCode?: number;
  exitSignal: string;
  restarts: number;
  /** Runs start with SWITCHYARD_RESTORE=1 (its state dir holds a checkpoint). */
  restore: boolean;
  /** The current (or last) run was started with SWITCHYARD_RESTORE=1. */
  restored: boolean;
  cpuPct?: number;
  rssBytes?: number;
  /** Its state dir's files, as last measured. */
  stateBytes?: number;
  backoff: Backoff;
  restartTimer?: NodeJS.Timeout;
  /** What the next exit of the process means, when it is not an ordinary exit. */
  expecting?: 'stop' | 'checkpoint';
  saved: SavedState;
  ring: OutputRing;
  log: OutputLog;
  viewers: Set<Viewer>;
}

export function toWorkload(slot: Slot, serverId: string, stateDir: string): Workload {
  return {
    spec: slot.spec,
    serverId,
    state: slot.state,
    pid: slot.proc?.pid ?? 0,
    startedMs: slot.startedMs,
    exitCode: slot.exitCode,
    exitSignal: slot.exitSignal,
    restarts: slot.restarts,
    stateDir,
    restored: slot.restored,
    cpuPct: slot.cpuPct,
    rssBytes: slot.rssBytes,
    stateBytes: slot.stateBytes,
    message: slot.message,
  };
}

/** The slot's state now (a plain comparison would keep a narrowing from before an await). */
export function inState(slot: Slot, state: WorkloadState): boolean {
  return slot.state === state;
}

export function stateWords(state: WorkloadState): string {
  return state === S.WORKLOAD_STATE_BACKOFF ? 'waiting to restart' : workloadStates.name(state);
}

export function clean(exit: ProcessExit): boolean {
  return exit.exitCode === 0 && exit.signal === '';
}

export function describeExit(exit: ProcessExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exited ${exit.exitCode}`;
}
