// Workload actions against the fixture fleet: each call recorded, stop/restart/remove change the
// fleet's records as an agent would, and a logs stream the test feeds by hand.
import type { LogSink, WorkloadActions } from '../../src/core/fleet.js';
import { WorkloadState, type Workload } from '../../src/core/workload.js';

export interface WorkloadCall {
  action: keyof WorkloadActions;
  name: string;
}

export interface FixtureWorkloadHost {
  workload(name: string): Workload | undefined;
  putWorkload(w: Workload): void;
  dropWorkload(name: string): void;
}

export class FixtureWorkloadActions implements WorkloadActions {
  readonly calls: WorkloadCall[] = [];
  /** The open logs streams, by workload: `sink` to feed, `closed` once the pane let go. */
  readonly streams = new Map<string, { sink: LogSink; closed: boolean }>();

  constructor(private readonly host: FixtureWorkloadHost) {}

  async stopWorkload(name: string): Promise<Workload> {
    this.calls.push({ action: 'stopWorkload', name });
    const w = {
      ...this.must(name),
      state: WorkloadState.WORKLOAD_STATE_EXITED,
      exitCode: undefined,
      exitSignal: 'SIGTERM',
      pid: 0,
    };
    this.host.putWorkload(w);
    return w;
  }

  async restartWorkload(name: string): Promise<Workload> {
    this.calls.push({ action: 'restartWorkload', name });
    const w = {
      ...this.must(name),
      state: WorkloadState.WORKLOAD_STATE_RUNNING,
      exitCode: undefined,
      exitSignal: '',
      pid: 4242,
      startedMs: Date.now(),
    };
    this.host.putWorkload(w);
    return w;
  }

  async removeWorkload(name: string): Promise<Workload> {
    this.calls.push({ action: 'removeWorkload', name });
    const w = this.must(name);
    this.host.dropWorkload(name);
    return w;
  }

  followLogs(name: string, sink: LogSink): () => void {
    this.calls.push({ action: 'followLogs', name });
    const stream = { sink, closed: false };
    this.streams.set(name, stream);
    return () => {
      stream.closed = true;
    };
  }

  private must(name: string): Workload {
    const w = this.host.workload(name);
    if (!w) throw new Error(`no workload ${name}`);
    return w;
  }
}
