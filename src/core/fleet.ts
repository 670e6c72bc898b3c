import type { AuditEntry, PlanMigrationResponse, TargetFit } from '../gen/switchyard/v1/control.js';
import type { DeploymentStatus } from './deployment.js';
import type { Drain } from './drain.js';
import type { KnownWorkload, RouteState } from './domain.js';
import type { Role } from './pki/roles.js';
import type { ServerSeries } from './series.js';
import type { Server } from './types.js';
import type { Migration, MigrationStrategy, Workload } from './workload.js';

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
  /** `counters`: only its proxy's new report (the views draw those on the clock tick). */
  | { kind: 'route'; name: string; counters?: boolean }
  /** A deployment's status changed, or it was deleted. */
  | { kind: 'deployment'; name: string }
  /** An entry of the controller's audit trail, as it is written. */
  | { kind: 'audit'; entry: AuditEntry }
  | { kind: 'connection'; connected: boolean; since: number }
  /** The controller said which role this dashboard's caller holds (an attached one learns it after it dials). */
  | { kind: 'role'; role: Role };

/** A possible target of a migration, as the wizard ranks them (higher `score` fits better). */
export type { TargetFit };

/** A migration's plan: the workload (always there), its targets ranked, and the checks against the chosen target (none when none was given). */
export type MigrationPlan = Omit<PlanMigrationResponse, 'workload'> & { workload: KnownWorkload };

/** One route as a view sees it: its status and each endpoint's recent throughput. */
export interface FleetRoute {
  readonly status: RouteState;
  /** bytes/s of an endpoint, oldest first (≤120 points) */
  history(endpointKey: string): readonly number[];
}

export interface MigrationActions {
  planMigration(workload: string, target?: string, strategy?: MigrationStrategy): Promise<MigrationPlan>;
  /** `precopy` unset: the controller decides by the state dir's size. */
  startMigration(
    workload: string,
    target: string,
    strategy: MigrationStrategy,
    opts?: { precopy?: boolean },
  ): Promise<Migration>;
  cancelMigration(id: string): Promise<Migration>;
}

export interface PromoteOptions {
  steps?: number[];
  intervalMs?: number;
}

export interface RouteActions {
  /** Version label → weight 0-100. */
  setRouteWeights(service: string, weights: Record<string, number>): Promise<RouteState>;
  /** Resolves with the final message when DONE, rejects with the reason when REVERTED. */
  promoteRoute(service: string, version: string, opts?: PromoteOptions): Promise<string>;
  rollbackRoute(service: string): Promise<RouteState>;
  /** `backend`: a version label, workload name or address; `deadlineMs` 0 or left out: the route's drain timeout. */
  drainBackend(service: string, backend: string, deadlineMs?: number): Promise<RouteState>;
}

/** Where a workload's output goes while a logs pane follows it. */
export interface LogSink {
  data(chunk: Buffer): void;
  /** No more output: the workload's console closed, or the stream failed (`error` says why). */
  end(error?: Error): void;
}

export interface WorkloadActions {
  /** Stops the workload; it stays listed, exited, until removed or restarted. */
  stopWorkload(name: string): Promise<Workload>;
  /** Stops it if it runs, then starts it again with the same spec on the same server. */
  restartWorkload(name: string): Promise<Workload>;
  /** Stops it and forgets it on its server, state directory and all. */
  removeWorkload(name: string): Promise<Workload>;
  /**
   * Streams the workload's output into `sink`: what its agent keeps, then as it comes. Returns
   * the function that stops following; a failure to start ends `sink` with the reason.
   */
  followLogs(name: string, sink: LogSink): () => void;
}

export interface DeploymentActions {
  scaleDeployment(name: string, replicas: number): Promise<DeploymentStatus>;
  /** A rolling restart: every replica replaced by a new version of the same template. */
  restartDeployment(name: string): Promise<DeploymentStatus>;
}

/** What the dashboard can ask of the fleet; each call goes through the controller and is audited. */
export interface FleetActions extends MigrationActions, RouteActions, WorkloadActions, DeploymentActions {}
export interface ServerActions {
  /** Cordons (true) or uncordons (false) the server by id; resolves with it as it now is. */
  cordonServer(server: string, cordoned: boolean): Promise<Server>;
  /** Cordons it and starts its drain (the default deadline and parallelism); the drain goes on in the controller. */
  drainServer(server: string): Promise<Drain>;
}

/** What the dashboard can ask of the fleet; each call goes through the controller and is audited. */
export interface FleetActions extends MigrationActions, RouteActions, WorkloadActions, ServerActions {}

/**
 * The one interface the dashboard reads the fleet through. It is backed either in-process
 * (the embedded controller's registry) or by a running controller's Control API.
 */
export interface FleetSource {
  /** Where the controller listens, for the header. */
  readonly controllerAddress: string;
  readonly mode: 'embedded' | 'attached';
  /**
   * What the controller lets this dashboard's caller do: a viewer only looks, an operator also
   * changes the fleet. The controller checks every action; the dashboard greys out the rest.
   */
  readonly role: Role;
  /** Every known server, in a stable order (by name). */
  list(): readonly FleetServer[];
  get(id: string): FleetServer | undefined;
  /** Every workload in the fleet, by name. */
  workloads(): readonly KnownWorkload[];
  /** Migrations, newest first (live ones and recent history). */
  migrations(): readonly Migration[];
  /** Every route, by name. */
  routes(): readonly FleetRoute[];
  /** Every deployment with its replicas, by name. */
  deployments(): readonly DeploymentStatus[];
  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (change: FleetChange) => void): () => void;
  readonly actions: FleetActions;
}
