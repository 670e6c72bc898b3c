import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { DEPLOYMENT_LIMITS, replicaName, type Deployment, type DeploymentStatus } from '../../core/deployment.js';
import type { KnownWorkload, RouteState } from '../../core/domain.js';
import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Backend } from '../../core/route.js';
import type { AgentAction, AgentLinks } from '../agent-links.js';
import type { AuditLog } from '../audit.js';
import type { Registry } from '../registry.js';
import type { Router } from '../router/router.js';
import type { Store } from '../store.js';
import type { WorkloadTable } from '../workloads.js';
import { desiredReplicas, metricValue } from './autoscale.js';
import { RescheduleDelay } from './backoff.js';
import { nowhereReason, pickHost } from './placement.js';
import { planPass } from './plan.js';
import { byDeployment, deploymentOf, isRunning, replicaRow, replicaSpec, sortReplicas, versionOf } from './replicas.js';

export interface ReconcilerParts {
  store: Store;
  registry: Registry;
  workloads: WorkloadTable;
  links: AgentLinks;
  router: Router;
  audit: AuditLog;
  log: Logger;
  now?: () => number;
  /** How often every deployment is compared with what runs (default 1 s). */
  passMs?: number;
  /** How often autoscaled deployments read their metric (default 15 s). */
  autoscaleMs?: number;
}

/** Who the reconciler's decisions are recorded as, in the audit trail and the Events view. */
const RECONCILER = 'deployments';

/** A start the agent has not reported yet is forgotten after this long (it failed, or the agent went). */
const PENDING_MS = 30_000;
/** Starts one pass may ask of one deployment: agents take commands a few hundred at a time. */
const STARTS_PER_PASS = 32;
/** How long an agent has to answer a start or a stop. */
const COMMAND_MS = 30_000;
/** The longest `reschedule` waits for a replica to be replaced and gone from its host. */
const RESCHEDULE_WAIT_MS = 600_000;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** What the reconciler remembers of a deployment between passes (in memory: a new leader starts afresh). */
interface Track {
  delay: RescheduleDelay;
  lostSince: Map<string, number>;
  pending: Map<string, { serverId: string; atMs: number }>;
  /** When each replica was started (or first seen): a crash loop's restarts do not reset its health timeout. */
  born: Map<string, number>;
  /** Asked to stop (and be removed): left out until its agent no longer reports it. */
  stopping: Set<string>;
  evicted: Map<string, string>;
  /** Who waits for an evicted replica to be gone (a drain). */
  waiters: Map<string, Waiter[]>;
  halted: number;
  message: string;
  lastScaleMs: number;
  lastEvalMs: number;
  lastStatus: string;
}

/**
 * Keeps each deployment's count, placement, route and version: every `passMs` it compares the
 * stored deployments with the replicas the agents report and starts, stops and routes replicas
 * to close the gap; every decision is an audit entry (the Events view) with its reason. Runs on
 * the leading controller only (the whole controller does: see leadership.ts).
 */
export class DeploymentReconciler extends EventEmitter<{ deployment: [DeploymentStatus]; removed: [string] }> {
  private readonly tracks = new Map<string, Track>();
  private readonly now: () => number;
  private timer?: NodeJS.Timeout;
  private passing?: Promise<void>;
  private again = false;
  private closed = false;

  constructor(private readonly o: ReconcilerParts) {
    super();
    this.setMaxListeners(0);
    this.now = o.now ?? Date.now;
  }

  start(): void {
    this.timer = setInterval(() => this.soon(), this.o.passMs ?? 1000);
    this.timer.unref();
    this.soon();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const t of this.tracks.values())
      for (const workload of t.waiters.keys())
        settle(t, workload, new YardError('UNAVAILABLE', 'the controller stopped before the replica was replaced'));
  }

  /** Runs a pass now, or once more after the one running. */
  soon(): void {
    if (this.closed) return;
    if (this.passing !== undefined) {
      this.again = true;
      return;
    }
    this.passing = this.pass()
      .catch((err: unknown) => this.o.log.error('deployment pass failed', { error: errorMessage(err) }))
      .finally(() => {
        this.passing = undefined;
        if (this.again) {
          this.again = false;
          this.soon();
        }
      });
  }

  list(): DeploymentStatus[] {
    const replicas = byDeployment(this.o.workloads.list());
    return this.o.store.deployments().map((d) => this.statusOf(d, replicas.get(d.name) ?? []));
  }

  status(name: string): DeploymentStatus {
    return this.statusOf(this.stored(name), this.replicasOf(name));
  }

  /** Whether the workload is a replica of a deployment this controller keeps. */
  owns(workload: string): boolean {
    return this.o.workloads.instances(workload).some((w) => this.o.store.deployment(deploymentOf(w)) !== undefined);
  }

  /**
   * Moves a replica off its host: a new one starts where placement allows (by the update's
   * surge and unavailability), then this one stops. Resolves once it is gone from its host (a
   * replacement healthy first); rejects if its deployment is deleted, or after 10 minutes. For `yard drain`.
   */
  reschedule(workload: string, reason: string): Promise<void> {
    const w = this.o.workloads.instances(workload).find((x) => this.o.store.deployment(deploymentOf(x)));
    if (!w)
      return Promise.reject(
        new YardError('NOT_FOUND', `workload ${workload} is not a replica of any deployment`, { workload }),
      );
    const t = this.track(deploymentOf(w));
    t.evicted.set(workload, reason);
    this.decide(deploymentOf(w), 'reschedule', `${workload} moves off its host: ${reason}`);
    const done = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          t.waiters.set(
            workload,
            (t.waiters.get(workload) ?? []).filter((x) => x !== waiter),
          );
          reject(
            new YardError(
              'DEADLINE_EXCEEDED',
              `${workload} was not replaced within ${RESCHEDULE_WAIT_MS / 60_000} minutes: \`yard deploy status ${deploymentOf(w)}\` says why`,
              { workload },
            ),
          );
        }, RESCHEDULE_WAIT_MS),
      };
      t.waiters.set(workload, [...(t.waiters.get(workload) ?? []), waiter]);
    });
    this.soon();
    return done;
  }

  /** Creates or replaces a deployment; a changed template is a new version, rolled out by the update policy. */
  async apply(given: Deployment, who: string): Promise<{ status: DeploymentStatus; outcome: string }> {
    const before = this.o.store.deployment(given.name);
    if (!before && this.o.store.deployments().length >= DEPLOYMENT_LIMITS.deployments)
      throw new YardError(
        'RESOURCE_EXHAUSTED',
        `${DEPLOYMENT_LIMITS.deployments} deployments exist, the most one fleet keeps: delete one first`,
      );
    if (given.route?.name && !this.o.store.route(given.route.name))
      throw new YardError(
        'FAILED_PRECONDITION',
        `deployment ${given.name} backs route ${given.route.name}, which does not exist: create it first with \`yard route apply\``,
        { route: given.route.name },
      );
    const stamp = { updatedMs: this.now(), updatedBy: who };
    // An autoscaled deployment keeps the count its metric gave it (within the new bounds): applying
    // the same file again changes nothing.
    const a = given.autoscale;
    const input = before && a ? { ...given, replicas: Math.min(a.max, Math.max(a.min, before.replicas)) } : given;
    let d: Deployment;
    let outcome: string;
    if (!before) {
      d = { ...input, version: 1, previousVersion: 0, ...stamp };
      delete d.previousTemplate;
      outcome = 'created';
    } else if (!isDeepStrictEqual(before.template, input.template)) {
      d = {
        ...input,
        version: before.version + 1,
        previousTemplate: before.template,
        previousVersion: before.version,
        ...stamp,
      };
      outcome = `updated: v${d.version} rolls out`;
    } else {
      d = { ...input, version: before.version, previousVersion: before.previousVersion, ...stamp };
      if (before.previousTemplate) d.previousTemplate = before.previousTemplate;
      else delete d.previousTemplate;
      outcome = same(before, d) ? 'unchanged' : 'changed';
    }
    if (outcome !== 'unchanged') await this.save(d);
    this.soon();
    return { status: this.status(d.name), outcome };
  }

  async scale(name: string, replicas: number, who: string): Promise<DeploymentStatus> {
    const d = this.stored(name);
    const a = d.autoscale;
    if (a && (replicas < a.min || replicas > a.max))
      throw new YardError(
        'FAILED_PRECONDITION',
        `deployment ${name} autoscales between ${a.min} and ${a.max}: scale within that, or apply it with other bounds`,
        { deployment: name },
      );
    const most = d.route?.name ? DEPLOYMENT_LIMITS.routedReplicas : DEPLOYMENT_LIMITS.replicas;
    if (!Number.isSafeInteger(replicas) || replicas < 0 || replicas > most)
      throw new YardError('INVALID_ARGUMENT', `replicas must be from 0 to ${most}, not ${replicas}`, {
        field: 'replicas',
      });
    await this.save({ ...d, replicas, updatedMs: this.now(), updatedBy: who });
    this.soon();
    return this.status(name);
  }

  /** A rolling restart: the same template as a new version. */
  async restart(name: string, who: string): Promise<DeploymentStatus> {
    const d = this.stored(name);
    await this.save({
      ...d,
      version: d.version + 1,
      previousTemplate: d.template,
      previousVersion: d.version,
      updatedMs: this.now(),
      updatedBy: who,
    });
    this.track(name).halted = 0;
    this.soon();
    return this.status(name);
  }

  /** Forgets the deployment, then stops and removes its replicas; returns their names. */
  async delete(name: string): Promise<string[]> {
    this.stored(name);
    this.o.store.removeDeployment(name);
    await this.o.store.flush();
    const t = this.tracks.get(name);
    for (const workload of t?.waiters.keys() ?? [])
      settle(t!, workload, new YardError('ABORTED', `deployment ${name} was deleted: its replicas stop`));
    this.tracks.delete(name);
    this.emit('removed', name);
    const replicas = this.replicasOf(name);
    await Promise.all(replicas.map((w) => this.stopReplica(w).catch(() => undefined)));
    return replicas.map((w) => w.spec.name);
  }

  private stored(name: string): Deployment {
    const d = this.o.store.deployment(name);
    if (!d)
      throw new YardError('NOT_FOUND', `no deployment "${name}": \`yard deploy list\` lists them`, {
        deployment: name,
      });
    return d;
  }

  private async save(d: Deployment): Promise<void> {
    this.o.store.putDeployment(d);
    await this.o.store.flush();
    this.publish(d);
  }

  private replicasOf(name: string): KnownWorkload[] {
    return this.o.workloads.list().filter((w) => deploymentOf(w) === name);
  }

  private track(name: string): Track {
    let t = this.tracks.get(name);
    if (!t) {
      t = {
        delay: new RescheduleDelay(),
        lostSince: new Map(),
        pending: new Map(),
        born: new Map(),
        stopping: new Set(),
        evicted: new Map(),
        waiters: new Map(),
        halted: 0,
        message: '',
        lastScaleMs: Number.NEGATIVE_INFINITY,
        lastEvalMs: Number.NEGATIVE_INFINITY,
        lastStatus: '',
      };
      this.tracks.set(name, t);
    }
    return t;
  }

  /** One decision: the message status shows, and an audit entry with its reason. */
  private decide(name: string, action: string, reason: string, ok = true): void {
    this.track(name).message = reason;
    const target = `${name}: ${reason}`.slice(0, 256);
    void this.o.audit
      .record(RECONCILER, `deployment.${action}`, target, () => {
        if (!ok) throw new YardError('FAILED_PRECONDITION', reason);
      })
      .catch(() => undefined);
  }

  private async pass(): Promise<void> {
    const replicas = byDeployment(this.o.workloads.list());
    for (const d of this.o.store.deployments()) {
      if (this.closed) return;
      try {
        await this.reconcile(d, replicas.get(d.name) ?? []);
      } catch (err) {
        this.o.log.warn('deployment not reconciled', { deployment: d.name, error: errorMessage(err) });
      }
      const now = this.o.store.deployment(d.name);
      if (now) this.publish(now, replicas.get(d.name) ?? []);
    }
  }

  private async reconcile(d: Deployment, replicas: KnownWorkload[]): Promise<void> {
    const t = this.track(d.name);
    const now = this.now();
    const sets = sortReplicas(replicas, this.o.registry);
    const names = new Set(replicas.map((w) => w.spec.name));
    for (const [name, p] of t.pending) if (names.has(name) || now - p.atMs > PENDING_MS) t.pending.delete(name);
    for (const name of t.stopping) if (!names.has(name)) t.stopping.delete(name);
    for (const name of t.evicted.keys())
      if (!names.has(name)) {
        t.evicted.delete(name);
        settle(t, name);
      }
    for (const name of t.born.keys()) if (!names.has(name) && !t.pending.has(name)) t.born.delete(name);
    for (const name of names) if (!t.born.has(name)) t.born.set(name, now);
    const lostNow = new Set(sets.lost.map((w) => w.spec.name));
    for (const name of t.lostSince.keys()) if (!lostNow.has(name)) t.lostSince.delete(name);
    for (const w of sets.lost) if (!t.lostSince.has(w.spec.name)) t.lostSince.set(w.spec.name, now);

    for (const w of sets.ended)
      if (!t.stopping.has(w.spec.name) && this.o.links.connected(w.serverId)) void this.removeEnded(d, w, t);

    const live = sets.live.filter((w) => !t.stopping.has(w.spec.name));
    const route = this.routeOf(d);
    const healthy = (w: KnownWorkload) => this.healthy(d, w, route);
    const startedMs = (w: KnownWorkload) => t.born.get(w.spec.name) ?? now;
    if (this.autoscale(d, live, route, t, now)) return;

    const delay = t.delay.delayMs(now);
    const waitingLost = sets.lost.filter((w) => now - t.lostSince.get(w.spec.name)! < delay).length;
    const replacing = sets.lost.length - waitingLost;
    const plan = planPass({
      d,
      live,
      pending: t.pending.size,
      waitingLost,
      evicted: new Set(t.evicted.keys()),
      healthy,
      startedMs,
      nowMs: now,
      halted: t.halted === d.version,
    });

    if (plan.gateFailed.length > 0) {
      await this.gateFailed(d, plan.gateFailed, t);
      return;
    }
    const started = await this.startReplicas(d, live, plan.start, t, replacing > 0);
    if (started.length > 0 && replacing > 0) t.delay.rescheduled(now);
    const stopping = new Set(plan.stop.map((s) => s.w.spec.name));
    await this.followRoute(d, [
      ...live.filter((w) => !stopping.has(w.spec.name)).map((w) => ({ name: w.spec.name, version: versionOf(w) })),
      ...started.map((name) => ({ name, version: d.version })),
    ]);
    if (plan.stop.length > 0)
      this.decide(
        d.name,
        'stop',
        plan.stop.length === 1
          ? `stopping ${plan.stop[0]!.w.spec.name}: ${plan.stop[0]!.why}`
          : `stopping ${plan.stop.length} replicas: ${plan.stop.map((x) => x.why).join('; ')}`,
      );
    for (const { w } of plan.stop) {
      t.stopping.add(w.spec.name);
      void this.stopReplica(w).catch((err: unknown) => {
        t.stopping.delete(w.spec.name);
        this.o.log.warn('could not stop a replica', { replica: w.spec.name, error: errorMessage(err) });
      });
    }
  }

  /** Starts `count` replicas of the current version, each on the best host; returns the names of those started. */
  private async startReplicas(
    d: Deployment,
    live: KnownWorkload[],
    count: number,
    t: Track,
    rescheduling: boolean,
  ): Promise<string[]> {
    if (count <= 0 || !d.template) return [];
    const on = new Map<string, number>();
    for (const w of live) on.set(w.serverId, (on.get(w.serverId) ?? 0) + 1);
    for (const p of t.pending.values()) on.set(p.serverId, (on.get(p.serverId) ?? 0) + 1);
    const servers = this.o.registry.list().map((r) => r.server);
    const connected = (id: string) => this.o.links.connected(id);
    const starts: Promise<string | undefined>[] = [];
    const placed: string[] = [];
    const failed: string[] = [];
    for (let i = 0; i < Math.min(count, STARTS_PER_PASS); i++) {
      const host = pickHost(d, servers, on, connected);
      if (!host) {
        const why = nowhereReason(d, servers, connected);
        if (t.message !== why) this.decide(d.name, 'place', why, false);
        break;
      }
      on.set(host.id, (on.get(host.id) ?? 0) + 1);
      const name = replicaName(d.name, d.version, randomBytes(2).toString('hex'));
      const spec = replicaSpec(d, d.template, d.version, name);
      t.pending.set(name, { serverId: host.id, atMs: this.now() });
      t.born.set(name, this.now());
      placed.push(`${name} on ${host.name}`);
      starts.push(
        this.send(host.id, { $case: 'start', value: { spec, restore: false, provisional: false } }).then(
          () => name,
          (err: unknown) => {
            t.pending.delete(name);
            failed.push(`${name} on ${host.name}: ${errorMessage(err)}`);
            return undefined;
          },
        ),
      );
    }
    if (placed.length > 0) {
      // One decision per pass: a thousand replicas must not push the operators' actions out of the audit trail.
      const why = rescheduling
        ? `replacing ${placed.length === 1 ? 'a replica' : 'replicas'} lost with ${placed.length === 1 ? 'its host' : 'their hosts'}`
        : `${live.length + t.pending.size} of ${d.replicas}`;
      const what =
        placed.length === 1
          ? `starting ${placed[0]!.replace(' on ', ` (v${d.version}) on `)}`
          : `starting ${placed.length} replicas (v${d.version}): ${placed.join(', ')}`;
      this.decide(d.name, rescheduling ? 'reschedule' : 'start', `${what}: ${why}`);
    }
    const started = (await Promise.all(starts)).filter((w) => w !== undefined);
    if (failed.length > 0) this.decide(d.name, 'start', `could not start ${failed.join('; ')}`, false);
    return started;
  }

  /** The new version failed its health gate: revert to the previous template, or halt the rollout. */
  private async gateFailed(d: Deployment, failed: KnownWorkload[], t: Track): Promise<void> {
    const which = failed.map((w) => w.spec.name).join(', ');
    const why = `v${d.version} failed its health gate: ${which} not healthy within ${Math.round(d.update!.healthTimeoutMs / 1000)}s`;
    if (d.update?.autoRevert && d.previousTemplate) {
      const reverted: Deployment = {
        ...d,
        template: d.previousTemplate,
        version: d.version + 1,
        previousVersion: d.version,
        updatedMs: this.now(),
        updatedBy: RECONCILER,
      };
      delete reverted.previousTemplate;
      this.decide(
        d.name,
        'revert',
        `${why}; reverting to the template of v${d.previousVersion} as v${reverted.version}`,
        false,
      );
      await this.save(reverted);
      this.soon();
      return;
    }
    t.halted = d.version;
    this.decide(
      d.name,
      'halt',
      `${why}; rollout halted (autoRevert is off): fix the template and apply it again`,
      false,
    );
  }

  /** An autoscaled deployment's count follows its metric, at most once a cooldown; true when it changed. */
  private autoscale(
    d: Deployment,
    live: KnownWorkload[],
    route: RouteState | undefined,
    t: Track,
    now: number,
  ): boolean {
    const a = d.autoscale;
    if (!a || now - t.lastEvalMs < (this.o.autoscaleMs ?? 15_000)) return false;
    t.lastEvalMs = now;
    const running = live.filter((w) => versionOf(w) > 0 && isRunning(w));
    const actual = metricValue(d, running, { server: (id) => this.o.registry.get(id)?.server, route });
    const scaling = desiredReplicas(d, running.length, actual);
    if (!scaling || scaling.replicas === d.replicas) return false;
    if (now - t.lastScaleMs < a.cooldownMs) {
      const wait = `${scaling.reason}; held by the cooldown for ${Math.ceil((a.cooldownMs - (now - t.lastScaleMs)) / 1000)}s`;
      t.message = wait;
      return false;
    }
    t.lastScaleMs = now;
    this.decide(d.name, 'autoscale', scaling.reason);
    void this.save({ ...d, replicas: scaling.replicas, updatedMs: now, updatedBy: RECONCILER })
      .then(() => this.soon())
      .catch((err: unknown) =>
        this.o.log.warn('could not save a scaling', { deployment: d.name, error: errorMessage(err) }),
      );
    return true;
  }

  private routeOf(d: Deployment): RouteState | undefined {
    const name = d.route?.name;
    return name && this.o.store.route(name) ? this.o.router.get(name) : undefined;
  }

  /** Running, and passing the route's health checks when the deployment backs a route. */
  private healthy(d: Deployment, w: KnownWorkload, route: RouteState | undefined): boolean {
    if (!isRunning(w)) return false;
    if (!d.route?.name) return true;
    const eps = route?.endpoints.filter((e) => e.endpoint?.backend === w.spec.name) ?? [];
    return eps.some((e) => e.stats?.checksPassing === true && !e.endpoint?.draining);
  }

  /** The route's backends are the replicas: each at the deployment's port, weighted alike, labelled with its version. */
  private async followRoute(d: Deployment, replicas: { name: string; version: number }[]): Promise<void> {
    const r = d.route;
    if (!r?.name || replicas.length === 0 || !this.o.store.route(r.name)) return;
    const backends: Backend[] = [...replicas]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(({ name, version }) => ({
        workload: name,
        address: '',
        port: r.port,
        weight: 100,
        version: `v${version}`,
        drain: false,
        drainTimeoutMs: 0,
      }));
    await this.o.router.followReplicas(r.name, backends, RECONCILER, `deployment ${d.name}`);
  }

  private async removeEnded(d: Deployment, w: KnownWorkload, t: Track): Promise<void> {
    t.stopping.add(w.spec.name);
    this.decide(d.name, 'remove', `removing ${w.spec.name}: it ended (${w.message || 'exited'})`);
    // Not removed (its agent refused, or went): asked again at a later pass.
    await this.stopReplica(w).catch(() => t.stopping.delete(w.spec.name));
  }

  private async stopReplica(w: KnownWorkload): Promise<void> {
    if (!this.o.links.connected(w.serverId)) return;
    await this.send(w.serverId, { $case: 'stop', value: { name: w.spec.name, remove: true, kill: false } });
  }

  private send(serverId: string, action: AgentAction) {
    return this.o.links.send(serverId, action, COMMAND_MS, this.o.registry.get(serverId)?.server.name);
  }

  private statusOf(d: Deployment, replicas: KnownWorkload[]): DeploymentStatus {
    const route = this.routeOf(d);
    const rows = replicas.map((w) => replicaRow(w, this.healthy(d, w, route)));
    const sets = sortReplicas(replicas, this.o.registry);
    return {
      deployment: d,
      desired: d.replicas,
      running: sets.live.filter(isRunning).length,
      healthy: rows.filter((r) => r.healthy).length,
      replicas: rows,
      message: this.tracks.get(d.name)?.message ?? '',
    };
  }

  /** Tells watchers the deployment's status when it changed (`replicas`: as the pass read them, else read now). */
  private publish(d: Deployment, replicas: KnownWorkload[] = this.replicasOf(d.name)): void {
    const status = this.statusOf(d, replicas);
    const json = JSON.stringify(status);
    const t = this.track(d.name);
    if (t.lastStatus === json) return;
    t.lastStatus = json;
    this.emit('deployment', status);
  }
}

/** Tells whoever waits on `workload` leaving its host that it has (or, with `err`, that it will not). */
function settle(t: Track, workload: string, err?: Error): void {
  for (const w of t.waiters.get(workload) ?? []) {
    clearTimeout(w.timer);
    if (err) w.reject(err);
    else w.resolve();
  }
  t.waiters.delete(workload);
}

/** The same deployment, whoever stamped it when. */
function same(a: Deployment, b: Deployment): boolean {
  const strip = ({ updatedMs: _m, updatedBy: _b, ...rest }: Deployment) => rest;
  return isDeepStrictEqual(strip(a), strip(b));
}
