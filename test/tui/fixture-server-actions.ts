// Cordon and drain against the fixture fleet: each call recorded, and the server's record changed
// as the controller would (a drain starts with every live workload of the host waiting its turn).
import { DrainPhase, waitingItem, type Drain } from '../../src/core/drain.js';
import type { FleetServer, ServerActions } from '../../src/core/fleet.js';
import type { KnownWorkload } from '../../src/core/domain.js';
import type { Server } from '../../src/core/types.js';

export interface ServerCall {
  action: keyof ServerActions;
  server: string;
  cordoned?: boolean;
}

export interface FixtureServerHost {
  get(id: string): FleetServer | undefined;
  workloads(): readonly KnownWorkload[];
  changed(id: string): void;
}

export class FixtureServerActions implements ServerActions {
  readonly calls: ServerCall[] = [];

  constructor(private readonly host: FixtureServerHost) {}

  async cordonServer(server: string, cordoned: boolean): Promise<Server> {
    this.calls.push({ action: 'cordonServer', server, cordoned });
    const s = this.must(server);
    s.cordoned = cordoned;
    if (!cordoned) s.drain = undefined;
    this.host.changed(s.id);
    return s;
  }

  async drainServer(server: string): Promise<Drain> {
    this.calls.push({ action: 'drainServer', server });
    const s = this.must(server);
    const now = Date.now();
    s.cordoned = true;
    s.drain = {
      phase: DrainPhase.DRAIN_PHASE_DRAINING,
      requestedBy: 'test',
      startedMs: now,
      deadlineMs: now + 600_000,
      finishedMs: 0,
      parallel: 2,
      message: '',
      workloads: this.host
        .workloads()
        .filter((w) => w.serverId === s.id)
        .map((w) => waitingItem(w.spec.name)),
    };
    this.host.changed(s.id);
    return s.drain;
  }

  private must(id: string): Server {
    const fs = this.host.get(id);
    if (!fs) throw new Error(`no server ${id}`);
    return fs.server;
  }
}
