import type { BackendHealth } from '../../gen/switchyard/v1/route.js';
import { isLive } from '../../core/format/words.js';
import type { WorkloadTable } from '../workloads.js';
import type { MigrationRun } from './strategy.js';
import { waitUpTo, type Wakes } from './wait.js';

/** What the coordinator asks of the router to move a workload's traffic with it. */
export interface TrafficHooks extends Wakes {
  backs(workload: string): boolean;
  hold(workload: string): Promise<void>;
  release(workload: string): Promise<void>;
  split(workload: string, s: TrafficSplit): Promise<void>;
  /** What the proxies last reported of the workload's endpoints on a server; each report is a 'route' event. */
  endpointStats(workload: string, serverId: string): EndpointStats[];
}

export interface TrafficSplit {
  sourceServerId: string;
  targetServerId: string;
  targetShare: number;
  sourceDraining: boolean;
}

export interface EndpointStats {
  active: number;
  connectErrors: number;
  checksPassing: boolean;
  health: BackendHealth;
  reportedMs: number;
}

/** How long open connections may take to finish before a checkpoint or a stop goes ahead anyway. */
export const IDLE_WAIT_MS = 5000;
/** How long the agents' workload snapshots may trail a migration's last step. */
const SETTLE_WAIT_MS = 5000;

/** The routes of one workload that backs some, as a migration moves it. */
export class Traffic {
  constructor(
    private readonly hooks: TrafficHooks,
    private readonly workloads: WorkloadTable,
    readonly workload: string,
  ) {}

  /** Proxies stop sending the workload new connections; new clients wait for it. */
  hold(): Promise<void> {
    return this.hooks.hold(this.workload);
  }

  /** Routes resolve again to wherever the workload runs. */
  release(): Promise<void> {
    return this.hooks.release(this.workload);
  }

  split(s: TrafficSplit): Promise<void> {
    return this.hooks.split(this.workload, s);
  }

  stats(serverId: string): EndpointStats[] {
    return this.hooks.endpointStats(this.workload, serverId);
  }

  /** Waits for the proxies to report no open connections to the workload on `serverId`; returns how many are still open. */
  async idle(serverId: string, timeoutMs: number): Promise<number> {
    const since = Date.now();
    const open = () => sum(this.stats(serverId).map((e) => e.active));
    const quiet = () => this.stats(serverId).every((e) => e.reportedMs > since) && open() === 0;
    return (await waitUpTo(quiet, { wakeOn: this.changes, timeoutMs })) ? 0 : open();
  }

  /**
   * Waits (bounded) until the workload table shows the workload live on `serverId` and nowhere
   * else. Only for traffic: the router places routes from that table, so this is the moment its
   * view caught up; no decision about where the workload runs is taken from it.
   */
  async settled(serverId: string): Promise<void> {
    const aloneThere = () => {
      const where = this.workloads.instances(this.workload).filter(isLive);
      return where.length === 1 && where[0]?.serverId === serverId;
    };
    await waitUpTo(aloneThere, { wakeOn: this.changes, timeoutMs: SETTLE_WAIT_MS });
  }

  /** Wakes a wait on a report from the proxies or a change in the workload table. */
  get changes(): [Wakes, ...string[]][] {
    return [
      [this.hooks, 'route'],
      [this.workloads, 'workload', 'removed'],
    ];
  }
}

/** Waits for the workload's connections on `serverId` to close; warns how many stayed open. */
export async function idleOrWarn(
  run: MigrationRun,
  traffic: Traffic,
  serverId: string,
  timeoutMs: number,
  warning: string,
): Promise<void> {
  const open = await traffic.idle(serverId, timeoutMs);
  if (open > 0) run.log.warn(warning, { id: run.m.id, workload: run.m.workload, open });
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
