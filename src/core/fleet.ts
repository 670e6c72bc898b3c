import type { ServerSeries } from './series.js';
import type { Server } from './types.js';
import type { Migration, MigrationStrategy, PreflightCheck, Workload } from './workload.js';

/** One server as a view sees it: its record (state, latest sample) and its recent history. */
export interface FleetServer {
  readonly server: Server;
  readonly series: ServerSeries;
}

export type FleetChange =
  | { kind: 'server'; id: string }
  | { kind: 'sample'; id: string }
  | { kind: 'workload'; name: string }
  | { kind: 'migration'; id: string }
  | { kind: 'connection'; connected: boolean; since: number };

/** A possible target of a migration, as the wizard ranks them. */
export interface TargetFit {
  serverId: string;
  name: string;
  eligible: boolean;
  /** Higher fits better. */
  score: number;
  /** Why it is not eligible, or notes. */
  reasons: string[];
}

export interface MigrationPlan {
  workload: Workload;
  strategy: MigrationStrategy;
  targets: TargetFit[];
  /** Checks against the chosen target (empty when none was given). */
  preflight: PreflightCheck[];
}

/** What the dashboard can ask of the fleet; each call goes through the controller and is audited. */
export interface FleetActions {
  planMigration(workload: string, target?: string, strategy?: MigrationStrategy): Promise<MigrationPlan>;
  startMigration(workload: string, target: string, strategy: MigrationStrategy): Promise<Migration>;
  cancelMigration(id: string): Promise<Migration>;
}

/**
 * The one interface the dashboard reads the fleet through. It is backed either in-process
 * (the embedded controller's registry) or by a running controller's Control API.
 */
export interface FleetSource {
  /** Where the controller listens, for the header. */
  readonly controllerAddress: string;
  readonly mode: 'embedded' | 'attached';
  /** Every known server, in a stable order (by name). */
  list(): readonly FleetServer[];
  get(id: string): FleetServer | undefined;
  /** Every workload in the fleet, by name. */
  workloads(): readonly Workload[];
  /** Migrations, newest first (live ones and recent history). */
  migrations(): readonly Migration[];
  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (change: FleetChange) => void): () => void;
  readonly actions: FleetActions;
}
