import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentAction } from '../../src/controller/agent-links.js';
import { routeTable, type KnownWorkload, type RouteTable } from '../../src/core/domain.js';
import { Registry } from '../../src/controller/registry.js';
import { Router } from '../../src/controller/router/router.js';
import { Store } from '../../src/controller/store.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import { YardError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { checkRoute } from '../../src/core/schema/route.js';
import { BackendHealth, type Backend, type EndpointStats, type PlacedRoute } from '../../src/core/route.js';
import { WorkloadState } from '../../src/core/workload.js';
import type { CommandResult } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { waitFor } from '../helpers/procs.js';

/**
 * Stands in for the agents' command links (src/controller/agent-links.ts): records every
 * PlaceRoutes it is sent and answers ok, or with the error a test set for that server.
 */
class RecordingProxyLinks {
  readonly placed: { serverId: string; routes: PlacedRoute[] }[] = [];
  readonly online = new Set<string>();
  readonly refusals = new Map<string, YardError>();
  /** Refused once, then answered ok again. */
  readonly refuseNext = new Map<string, YardError>();

  connected(serverId: string): boolean {
    return this.online.has(serverId);
  }

  async send(serverId: string, action: AgentAction, _timeoutMs: number, name = serverId): Promise<CommandResult> {
    if (!this.online.has(serverId)) throw new YardError('UNAVAILABLE', `server ${name} is not connected`);
    if (action.$case !== 'routes') throw new Error(`unexpected command ${action.$case}`);
    this.placed.push({ serverId, routes: structuredClone(action.value.routes) });
    const once = this.refuseNext.get(serverId);
    this.refuseNext.delete(serverId);
    const refusal = once ?? this.refusals.get(serverId);
    if (refusal) throw refusal;
    return {
      id: '',
      data: Buffer.alloc(0),
      sha256: '',
      size: 0,
      checkpointMs: 0,
      transferMs: 0,
      installMs: 0,
      movedBytes: 0,
    };
  }

  /** What the proxy was last sent. */
  last(serverId: string): PlacedRoute[] | undefined {
    return this.placed.filter((p) => p.serverId === serverId).at(-1)?.routes;
  }
}

export function backend(b: Partial<Backend>): Backend {
  return { workload: '', address: '', port: 0, weight: 0, version: '', drain: false, drainTimeoutMs: 0, ...b };
}

/** A route as a client would send it, defaults filled in the way the router fills them. */
export function route(name: string, server: string, port: number, backends: Partial<Backend>[]): RouteTable {
  return routeTable(
    checkRoute({
      name,
      listen: { server, port, host: '' },
      protocol: 0,
      policy: 0,
      backends: backends.map(backend),
      holdTimeoutMs: 0,
      drainTimeoutMs: 0,
      revision: 0,
      updatedMs: 0,
      updatedBy: '',
    }),
  );
}

export function endpointStats(key: string, s: Partial<EndpointStats> = {}): EndpointStats {
  return {
    key,
    active: 0,
    total: 0,
    bytesIn: 0,
    bytesOut: 0,
    connectErrors: 0,
    health: BackendHealth.BACKEND_HEALTH_HEALTHY,
    healthDetail: '',
    checksPassing: true,
    ...s,
  };
}

/** A real Registry, WorkloadTable and Store (a temp file) around a Router, with recording links. */
export async function routerFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'yard-router-'));
  const file = join(dir, 'store.json');
  const store = await Store.open({ file });
  const registry = new Registry({ heartbeatTtlMs: 60_000, graceMs: 60_000 });
  const workloads = new WorkloadTable();
  const links = new RecordingProxyLinks();
  const clock = { now: 1_000_000 };
  const byServer = new Map<string, KnownWorkload[]>();
  const routers: Router[] = [];
  const newRouter = (s: Store = store) => {
    const r = new Router({
      registry,
      workloads,
      links,
      store: s,
      log: silentLogger,
      now: () => clock.now,
    });
    routers.push(r);
    return r;
  };
  const router = newRouter();

  return {
    dir,
    file,
    store,
    registry,
    workloads,
    links,
    clock,
    router,
    newRouter,
    /** An agent says hello (a proxy unless told otherwise) and its command link is up. */
    connect(id: string, o: { proxy?: boolean; advertise?: string; addresses?: string[] } = {}) {
      registry.connect(
        {
          protocolVersion: 1,
          serverId: id,
          hostname: id,
          name: id,
          addresses: o.addresses ?? ['10.0.0.9'],
          mac: '',
          labels: {},
          location: '',
          capabilities: { gpus: [], migrationStrategies: [], proxy: o.proxy ?? true },
          agentVersion: '0.1.0',
          advertiseAddress: o.advertise ?? '',
          transferAddress: '',
        },
        Symbol(id),
      );
      links.online.add(id);
    },
    /** The agent on `serverId` runs (or reports in a new state) a workload. */
    run(serverId: string, name: string, ports: number[], state: WorkloadState = WorkloadState.WORKLOAD_STATE_RUNNING) {
      const list = (byServer.get(serverId) ?? []).filter((w) => w.spec.name !== name);
      list.push({
        spec: {
          name,
          command: 'sleep',
          args: [],
          env: {},
          cwd: '',
          labels: {},
          restart: 0,
          strategy: 0,
          checkpointSignal: '',
          checkpointTimeoutMs: 0,
          ports,
        },
        serverId,
        state,
        pid: 1,
        startedMs: 0,
        exitSignal: '',
        restarts: 0,
        stateDir: '',
        restored: false,
        message: '',
      });
      byServer.set(serverId, list);
      workloads.replace(serverId, list);
    },
    /** Waits for the router's debounced re-placement to send a set to `serverId` that passes `ok`. */
    placedOn(serverId: string, ok: (routes: PlacedRoute[]) => boolean, what: string) {
      return waitFor(
        what,
        () => {
          const last = links.last(serverId);
          return last && ok(last) ? last : undefined;
        },
        3000,
        10,
      );
    },
    cleanup() {
      for (const r of routers) r.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type RouterFixture = Awaited<ReturnType<typeof routerFixture>>;
