import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { Backoff, Rotation, WELCOME_TIMEOUT_MS } from '../agent/backoff.js';
import type { DeploymentStatus } from '../core/deployment.js';
import { knownWorkload, type KnownWorkload } from '../core/domain.js';
import { YardError } from '../core/errors.js';
import type { FleetActions, FleetChange, FleetRoute, FleetServer, FleetSource, MigrationPlan } from '../core/fleet.js';
import type { Logger } from '../core/log.js';
import { isRole, type Role } from '../core/pki/roles.js';
import type { RouteStatus } from '../core/route.js';
import { MigrationStrategy, type Migration } from '../core/workload.js';
import type { WatchFleetResponse } from '../gen/switchyard/v1/control.js';
import { controlClient, explain, type ControllerTarget } from './client.js';
import { FleetMirror, MIGRATIONS_KEPT } from './fleet-mirror.js';
import { RemoteDeployments } from './remote-deployments.js';
import { remoteRouteActions } from './remote-routes.js';
import { remoteWorkloadActions } from './remote-workloads.js';
import { remoteServerActions } from './remote-servers.js';

export interface RemoteFleetOptions {
  /** How long to wait between reconnection attempts (default: about 1 s doubling to 30 s, jittered). */
  backoff?: Backoff;
  migrationsKept?: number;
  /** Where the reasons go when a message of the fleet stream is dropped (one lacking a required part). */
  log?: Logger;
}

/** Actions wait on the controller and its agents (preflight, the journal): like the CLI's mutations. */
const ACTION_TIMEOUT_MS = 60_000;

/** Refusals that retrying soon will not cure: wait the longest backoff, and fail `ready()` at once. */
const STUBBORN = new Set<number>([status.UNAUTHENTICATED, status.PERMISSION_DENIED, status.UNIMPLEMENTED]);

type Control = ReturnType<typeof controlClient>;

/**
 * The fleet as a running controller's Control API shows it (an attached dashboard): one
 * WatchFleet stream mirrored in memory, actions as Control calls that carry the operator's
 * name (and token). When the stream drops it says so (`connection`, connected: false) and
 * dials again with jittered backoff; the next snapshot replaces what it knew. With several
 * controllers (`--connect A,B`) a lost one is replaced by the next after one first backoff
 * step; what it knew stays on screen, marked stale, until the next one's snapshot replaces it.
 */
export class RemoteFleet implements FleetSource {
  readonly mode = 'attached' as const;
  readonly actions: FleetActions;
  /** The least until the controller says (WhoAmI, once attached): nothing is offered that it would refuse. */
  role: Role = 'viewer';
  private roleKnown = false;
  private askingRole?: Promise<void>;
  private readonly mirror: FleetMirror;
  private readonly remoteDeployments: RemoteDeployments;
  private readonly rotation: Rotation;
  private readonly target: ControllerTarget;
  private readonly listeners = new Set<(change: FleetChange) => void>();
  private readonly createdMs = Date.now();
  private control: Control;
  private stream?: ClientReadableStream<WatchFleetResponse>;
  private retryTimer?: NodeJS.Timeout;
  private connected = false;
  private everConnected = false;
  /** Since when the controller has been unreachable; undefined while connected and before the first try ends. */
  private downSince?: number;
  private lastError?: YardError;
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private closed = false;

  constructor(target: ControllerTarget, opts: RemoteFleetOptions = {}) {
    // Our own copy: its address follows the rotation, and the actions' error messages with it.
    this.target = { ...target };
    this.rotation = new Rotation(target.addresses ?? [target.address], opts.backoff ?? new Backoff());
    this.mirror = new FleetMirror(opts.migrationsKept ?? MIGRATIONS_KEPT, opts.log);
    this.control = this.newControl();
    this.remoteDeployments = new RemoteDeployments(
      () => this.control,
      (change) => this.emit(change),
    );
    const kept = (res: { status?: DeploymentStatus }, what: string): DeploymentStatus => {
      if (!res.status) throw new YardError('INTERNAL', `the controller ${what} but did not say how it stands now`);
      return this.remoteDeployments.learn(res.status);
    };
    this.actions = {
      planMigration: (workload, target, strategy) => this.plan(workload, target, strategy),
      startMigration: async (workload, target, strategy, opts) =>
        this.keep(
          await this.control.call(this.control.client.startMigration, {
            workload,
            target,
            strategy,
            precopy: opts?.precopy,
          }),
          `started migrating ${workload}`,
        ),
      cancelMigration: async (id) =>
        this.keep(await this.control.call(this.control.client.cancelMigration, { id }), `cancelled migration ${id}`),
      ...remoteRouteActions({
        control: () => this.control,
        target: this.target,
        learn: (s) => this.learnRoute(s),
        graceMs: ACTION_TIMEOUT_MS,
      }),
      ...remoteWorkloadActions({ control: () => this.control, target: this.target }),
      scaleDeployment: async (name, replicas) =>
        kept(await this.control.call(this.control.client.scaleDeployment, { name, replicas }), `scaled ${name}`),
      restartDeployment: async (name) =>
        kept(await this.control.call(this.control.client.restartDeployment, { name }), `restarted ${name}`),
      ...remoteServerActions({ control: () => this.control, target: this.target }),
    };
    this.dial();
  }

  /** The controller shown in the header: the one the fleet stream is with (or dials next). */
  get controllerAddress(): string {
    return this.target.listen ?? this.target.address;
  }

  list(): readonly FleetServer[] {
    return this.mirror.list();
  }

  get(id: string): FleetServer | undefined {
    return this.mirror.get(id);
  }

  workloads(): readonly KnownWorkload[] {
    return this.mirror.workloads();
  }

  migrations(): readonly Migration[] {
    return this.mirror.migrations();
  }

  routes(): readonly FleetRoute[] {
    return this.mirror.routes();
  }

  deployments(): readonly DeploymentStatus[] {
    return this.remoteDeployments.list();
  }

  /** A listener that subscribes while the controller is unreachable hears so at once. */
  subscribe(listener: (change: FleetChange) => void): () => void {
    this.listeners.add(listener);
    const since = this.downSince;
    if (!this.connected && since !== undefined)
      queueMicrotask(() => this.listeners.has(listener) && listener({ kind: 'connection', connected: false, since }));
    return () => void this.listeners.delete(listener);
  }

  /**
   * Resolves with the first snapshot and the caller's role; rejects when no snapshot came within
   * `timeoutMs`, or at once with why when the controller refuses us (a wrong token) or, before
   * any snapshot, cannot be reached.
   */
  ready(timeoutMs: number): Promise<void> {
    return this.firstSnapshot(timeoutMs).then(() => this.learnRole());
  }

  private firstSnapshot(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err: Error) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          this.lastError ??
            new YardError(
              'UNAVAILABLE',
              `no answer from the controller at ${this.target.address} (from ${this.target.from}) in ${timeoutMs / 1000}s: check the address, and that the network lets you reach it`,
            ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.remoteDeployments.close();
    this.stream?.cancel();
    this.control.close();
    this.listeners.clear();
    this.settleWaiters(new YardError('CLOSED', 'the dashboard was closed'));
  }

  /** Each attempt gets its own channel, so grpc's own reconnect backoff never delays ours. */
  private newControl(): Control {
    return controlClient(this.target, ACTION_TIMEOUT_MS, { 'grpc.use_local_subchannel_pool': 1 });
  }

  private dial(): void {
    this.control.close();
    this.target.address = this.rotation.current;
    this.control = this.newControl();
    const stream = this.control.client.watchFleet({}, this.control.metadata);
    this.stream = stream;
    let ended = false;
    const lost = (err: YardError, stubborn: boolean) => {
      if (ended) return;
      ended = true;
      clearTimeout(silent);
      if (this.closed) return;
      this.lastError = err;
      const { waitMs, roundOver } = this.rotation.failed(stubborn);
      // Until the first snapshot someone waits in front of a blank terminal: the first failure of
      // every listed controller is the answer.
      if (stubborn || (!this.everConnected && roundOver)) this.settleWaiters(err);
      if (this.connected || this.downSince === undefined) {
        this.downSince = this.connected ? Date.now() : this.createdMs;
        this.connected = false;
        // Without the stream we know nothing of any host now: none is shown online on our word.
        for (const change of this.mirror.loseTouch()) this.emit(change);
        this.emit({ kind: 'connection', connected: false, since: this.downSince });
      }
      this.retryTimer = setTimeout(() => this.dial(), waitMs);
    };
    // Several controllers: one that takes the connection and sends no snapshot is given up for the
    // next (gRPC would wait on it without end); one controller is waited for, as always.
    const silent =
      this.rotation.addresses.length > 1
        ? setTimeout(() => {
            if (this.stream !== stream || this.connected) return;
            lost(
              new YardError(
                'UNAVAILABLE',
                `no answer from the controller at ${this.target.address} within ${WELCOME_TIMEOUT_MS / 1000}s`,
              ),
              false,
            );
            stream.cancel();
          }, WELCOME_TIMEOUT_MS)
        : undefined;
    stream.on('data', (res: WatchFleetResponse) => {
      if (res.event?.$case === 'snapshot') clearTimeout(silent);
      this.onEvent(res);
    });
    stream.on('error', (err: ServiceError) => lost(explain(err, this.target), STUBBORN.has(err.code)));
    stream.on('end', () =>
      lost(new YardError('UNAVAILABLE', `the controller at ${this.target.address} ended the fleet stream`), false),
    );
  }

  private onEvent(res: WatchFleetResponse): void {
    for (const change of this.mirror.apply(res)) this.emit(change);
    this.remoteDeployments.heard(res);
    // A snapshot in parts is whole at its last part.
    if (res.event?.$case !== 'snapshot' || res.event.value.nextPageToken) return;
    void this.listRoutes();
    void this.learnRole();
    if (this.connected) return;
    this.connected = true;
    this.everConnected = true;
    this.downSince = undefined;
    this.lastError = undefined;
    this.rotation.succeeded();
    this.emit({ kind: 'connection', connected: true, since: Date.now() });
    this.settleWaiters();
  }

  /**
   * The stream sends route changes, not the table: each snapshot is followed by a ListRoutes.
   * A controller that cannot answer it (one without routes) leaves the routes as the stream tells them.
   */
  private async listRoutes(): Promise<void> {
    const control = this.control;
    this.mirror.awaitRouteList();
    const routes = await control.call(control.client.listRoutes, {}).then(
      (res) => res.routes,
      () => undefined,
    );
    if (this.closed) return;
    for (const change of this.mirror.applyRouteList(routes)) this.emit(change);
  }

  /**
   * Asks the controller once who we are to it, so the dashboard greys out what our role cannot
   * do; a failed ask leaves the role as it was and is made again at the next snapshot.
   */
  private learnRole(): Promise<void> {
    if (this.roleKnown || this.closed) return Promise.resolve();
    const control = this.control;
    this.askingRole ??= control.call(control.client.whoAmI, {}).then(
      (me) => {
        this.roleKnown = true;
        this.role = isRole(me.role) ? me.role : 'viewer';
        this.emit({ kind: 'role', role: this.role });
      },
      () => {
        this.askingRole = undefined;
      },
    );
    return this.askingRole;
  }

  private learnRoute(status: RouteStatus): void {
    for (const change of this.mirror.learnRoute(status)) this.emit(change);
  }

  private emit(change: FleetChange): void {
    for (const listener of this.listeners) listener(change);
  }

  private settleWaiters(err?: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }

  private async plan(workload: string, target?: string, strategy?: MigrationStrategy): Promise<MigrationPlan> {
    const res = await this.control.call(this.control.client.planMigration, {
      workload,
      target: target ?? '',
      strategy: strategy ?? MigrationStrategy.MIGRATION_STRATEGY_UNSPECIFIED,
    });
    if (!res.workload)
      throw new YardError(
        'RPC_FAILED',
        `the controller at ${this.target.address} planned a move of ${workload} but sent no workload back`,
      );
    return {
      workload: knownWorkload(res.workload),
      strategy: res.strategy,
      targets: res.targets,
      preflight: res.preflight,
    };
  }

  /** The answer's migration goes into the mirror at once: the stream's copy may come later. */
  private keep(res: { migration?: Migration }, what: string): Migration {
    if (!res.migration)
      throw new YardError('RPC_FAILED', `the controller at ${this.target.address} ${what} but sent no migration back`);
    const change = this.mirror.learnMigration(res.migration);
    if (change) this.emit(change);
    return res.migration;
  }
}
