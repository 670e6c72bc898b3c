import { EventEmitter } from 'node:events';
import { YardError } from '../core/errors.js';
import { isLive } from '../core/format/words.js';
import type { KnownWorkload } from '../core/domain.js';

export interface WorkloadEvents {
  workload: [KnownWorkload];
  removed: [{ name: string; serverId: string }];
}

const key = (serverId: string, name: string) => `${serverId}/${name}`;

// The controller, the CLI and the dashboard mean one thing by a live workload.
export { isLive };

/**
 * What runs where, as the agents say: each agent's snapshot replaces everything the
 * controller believed about that agent (the agent is the truth). Bounded by what agents run.
 */
export class WorkloadTable extends EventEmitter<WorkloadEvents> {
  private readonly byKey = new Map<string, KnownWorkload>();

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  /** An agent's full snapshot. */
  replace(serverId: string, workloads: KnownWorkload[]): void {
    const seen = new Set<string>();
    for (const w of workloads) {
      const k = key(serverId, w.spec.name);
      seen.add(k);
      const kept = { ...w, serverId };
      this.byKey.set(k, kept);
      this.emit('workload', kept);
    }
    for (const [k, w] of this.byKey) {
      if (w.serverId === serverId && !seen.has(k)) {
        this.byKey.delete(k);
        this.emit('removed', { name: w.spec.name, serverId });
      }
    }
  }

  list(): KnownWorkload[] {
    return [...this.byKey.values()].sort(
      (a, b) => a.spec.name.localeCompare(b.spec.name) || a.serverId.localeCompare(b.serverId),
    );
  }

  at(serverId: string, name: string): KnownWorkload | undefined {
    return this.byKey.get(key(serverId, name));
  }

  /** Every instance of a name (normally one; two while a migration is between hosts). */
  instances(name: string): KnownWorkload[] {
    return this.list().filter((w) => w.spec.name === name);
  }

  /** The one instance an operator means by `name`: the live one, else the only one. */
  find(name: string): KnownWorkload {
    const all = this.instances(name);
    const live = all.filter(isLive);
    const w = live[0] ?? all[0];
    if (!w) throw new YardError('NOT_FOUND', `no workload "${name}": \`yard ps\` lists them`, { workload: name });
    return w;
  }
}
