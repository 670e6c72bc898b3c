import { YardError, errorMessage } from '../../core/errors.js';
import {
  DrainOutcome,
  DrainPhase,
  drainCounts,
  drainDone,
  waitingItem,
  type Drain,
  type DrainItem,
} from '../../core/drain.js';
import { durationText } from '../../core/format/time.js';
import type { Logger } from '../../core/log.js';
import type { Server } from '../../core/types.js';
import type { Coordinator } from '../migration/coordinator.js';
import type { Registry } from '../registry.js';
import { isLive, type WorkloadTable } from '../workloads.js';
import { moveOne, type ReplicaHooks } from './move-one.js';

export const DRAIN_DEADLINE_MS = 10 * 60_000;
export const DRAIN_PARALLEL = 2;

export interface DrainerOptions {
  registry: Registry;
  workloads: WorkloadTable;
  coordinator: Coordinator;
  log: Logger;
  /** Deployments' replicas (absent: every workload migrates). */
  replicas?: ReplicaHooks;
}

/**
 * Cordons hosts and drains them: every live workload moves off, a bounded number at a time,
 * within a deadline. The drain's progress is the server's own `drain` field, so it is persisted
 * and watched like any other change to the server; the drain runs here, whoever asked for it.
 */
export class Drainer {
  constructor(private readonly o: DrainerOptions) {}

  cordon(idOrName: string, cordoned: boolean): Server {
    const { server } = this.record(idOrName);
    if (!cordoned && server.drain?.phase === DrainPhase.DRAIN_PHASE_DRAINING)
      throw new YardError(
        'FAILED_PRECONDITION',
        `${server.name} is being drained: wait for the drain to end (\`yard servers\` shows it), then uncordon it`,
        { server: server.id },
      );
    // Uncordoning ends the story of its last drain: the host is back in service.
    return this.o.registry.mark(server.id, { cordoned, drain: cordoned ? server.drain : undefined })!;
  }

  /** Cordons the host and starts moving its workloads off; returns at once with the drain as started. */
  drain(idOrName: string, requestedBy: string, deadlineMs: number, parallel: number): Drain {
    const { server } = this.record(idOrName);
    if (server.drain && !drainDone(server.drain))
      throw new YardError('FAILED_PRECONDITION', `${server.name} is already being drained`, { server: server.id });
    const now = Date.now();
    const drain: Drain = {
      phase: DrainPhase.DRAIN_PHASE_DRAINING,
      requestedBy,
      startedMs: now,
      deadlineMs: now + deadlineMs,
      finishedMs: 0,
      parallel,
      message: '',
      workloads: this.o.workloads
        .list()
        .filter((w) => w.serverId === server.id && isLive(w))
        .flatMap((w) => (w.spec ? [w.spec.name] : []))
        .map(waitingItem),
    };
    this.o.registry.mark(server.id, { cordoned: true, drain });
    this.o.log.info('drain started', { server: server.name, workloads: drain.workloads.length, by: requestedBy });
    // Nothing in a drain is meant to throw (each move reports its own failure); should it, the
    // drain ends failed, saying why, rather than staying "draining" for ever.
    this.run(server.id, server.name, drain).catch((err: unknown) => {
      this.o.log.error('drain stopped', { server: server.name, error: errorMessage(err) });
      const now = this.o.registry.get(server.id)?.server;
      if (now?.drain)
        this.o.registry.mark(server.id, {
          cordoned: now.cordoned,
          drain: {
            ...now.drain,
            phase: DrainPhase.DRAIN_PHASE_FAILED,
            finishedMs: Date.now(),
            message: errorMessage(err),
          },
        });
    });
    return drain;
  }

  /** After a controller restart: a drain it was running is reported as cut short (its migrations resume by themselves). */
  resume(): void {
    for (const { server } of this.o.registry.list()) {
      const d = server.drain;
      if (!d || drainDone(d)) continue;
      const cut = (i: DrainItem): DrainItem =>
        i.outcome === DrainOutcome.DRAIN_OUTCOME_WAITING || i.outcome === DrainOutcome.DRAIN_OUTCOME_MOVING
          ? { ...i, outcome: DrainOutcome.DRAIN_OUTCOME_LEFT, message: 'the controller restarted during the drain' }
          : i;
      this.o.log.warn('a drain was cut short by a controller restart', { server: server.name });
      this.o.registry.mark(server.id, {
        cordoned: server.cordoned,
        drain: {
          ...d,
          phase: DrainPhase.DRAIN_PHASE_FAILED,
          finishedMs: Date.now(),
          workloads: d.workloads.map(cut),
          message: `the controller restarted during the drain: \`yard drain ${server.name}\` again moves what is left`,
        },
      });
    }
  }

  private record(idOrName: string) {
    const r = this.o.registry.get(idOrName);
    if (!r)
      throw new YardError('NOT_FOUND', `no server "${idOrName}": \`yard servers\` lists them`, { server: idOrName });
    return r;
  }

  private async run(serverId: string, serverName: string, first: Drain): Promise<void> {
    let drain = first;
    const publish = (next: Drain) => {
      drain = next;
      const s = this.o.registry.get(serverId)?.server;
      if (s) this.o.registry.mark(serverId, { cordoned: s.cordoned, drain });
    };
    const update = (name: string, change: Partial<DrainItem>) =>
      publish({ ...drain, workloads: drain.workloads.map((i) => (i.workload === name ? { ...i, ...change } : i)) });
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), Math.max(0, first.deadlineMs - Date.now()));
    const queue = first.workloads.map((i) => i.workload);
    const parts = {
      coordinator: this.o.coordinator,
      replicas: this.o.replicas,
      serverName: (id: string) => this.o.registry.get(id)?.server.name ?? id,
    };
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        if (deadline.signal.aborted) {
          update(name, { outcome: DrainOutcome.DRAIN_OUTCOME_LEFT, message: 'the deadline passed before its turn' });
          continue;
        }
        const job = {
          workload: name,
          drainedName: serverName,
          requestedBy: first.requestedBy,
          deadlineMs: first.deadlineMs,
          signal: deadline.signal,
          update: (c: Partial<DrainItem>) => update(name, c),
        };
        update(name, await moveOne(parts, job));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, first.parallel) }, worker));
    clearTimeout(timer);
    this.finish(serverName, drain, publish);
  }

  private finish(serverName: string, drain: Drain, publish: (d: Drain) => void): void {
    const c = drainCounts(drain);
    const ok = c.moved === c.total;
    const took = durationText(Date.now() - drain.startedMs);
    publish({
      ...drain,
      phase: ok ? DrainPhase.DRAIN_PHASE_DRAINED : DrainPhase.DRAIN_PHASE_FAILED,
      finishedMs: Date.now(),
      message: ok
        ? ''
        : `${c.total - c.moved} workload${c.total - c.moved === 1 ? '' : 's'} still on ${serverName}: ${c.failed} failed to move, ${c.left} left at the deadline`,
    });
    this.o.log.info('drain ended', { server: serverName, ...c, took });
  }
}
