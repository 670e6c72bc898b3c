import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentLinks } from '../../src/controller/agent-links.js';
import { AuditLog } from '../../src/controller/audit.js';
import { DeploymentReconciler } from '../../src/controller/deployments/reconciler.js';
import { Registry } from '../../src/controller/registry.js';
import type { Router } from '../../src/controller/router/router.js';
import { Store } from '../../src/controller/store.js';
import { WorkloadTable } from '../../src/controller/workloads.js';
import type { KnownWorkload } from '../../src/core/domain.js';
import { createLogger } from '../../src/core/log.js';
import { parseDeploymentFile } from '../../src/core/schema/deployment.js';
import { WorkloadState } from '../../src/core/workload.js';
import { CommandResult, type AgentCommand } from '../../src/gen/switchyard/v1/agent_gateway.js';
import { waitFor } from '../helpers/procs.js';

/**
 * Three agents in this process, recorded as agents answer: a start runs the workload at once, a
 * stop with remove forgets it; each reports its workloads as a real agent's snapshot does.
 */
async function fleet() {
  const store = await Store.open({ file: join(mkdtempSync(join(tmpdir(), 'yard-resched-')), 'store.json') });
  const registry = new Registry({ heartbeatTtlMs: () => 60_000, graceMs: 60_000 });
  const workloads = new WorkloadTable();
  const links = new AgentLinks();
  const commands: string[] = [];
  for (const id of ['a', 'b', 'c']) {
    const session = Symbol(id);
    registry.connect(
      {
        protocolVersion: 1,
        serverId: id,
        hostname: id,
        name: `host-${id}`,
        addresses: [],
        mac: '',
        labels: {},
        location: '',
        agentVersion: '0.1.0',
        advertiseAddress: '',
        transferAddress: '',
      },
      session,
    );
    const running = new Map<string, KnownWorkload>();
    links.attach(id, session, (c: AgentCommand) => {
      const a = c.action;
      if (a?.$case === 'start' && a.value.spec) {
        commands.push(`start ${id}`);
        running.set(a.value.spec.name, {
          spec: a.value.spec,
          serverId: id,
          state: WorkloadState.WORKLOAD_STATE_RUNNING,
          pid: 1,
          startedMs: Date.now(),
          exitSignal: '',
          restarts: 0,
          stateDir: '',
          restored: false,
          message: '',
        });
      } else if (a?.$case === 'stop') {
        commands.push(`stop ${a.value.name} on ${id}`);
        running.delete(a.value.name);
      }
      queueMicrotask(() => {
        workloads.replace(id, [...running.values()]);
        links.settle(id, CommandResult.fromPartial({ id: c.id }));
      });
    });
  }
  const reconciler = new DeploymentReconciler({
    store,
    registry,
    workloads,
    links,
    router: {} as Router,
    audit: new AuditLog(store, () => undefined),
    log: createLogger('test', () => undefined),
    passMs: 50,
  });
  return { reconciler, workloads, commands };
}

const app = parseDeploymentFile('name: app\nreplicas: 2\ntemplate: {command: /bin/sleep, args: ["60"]}\n', 'app.yaml');

describe('rescheduling a replica (yard drain)', () => {
  it('starts its replacement on another host, then stops it; resolves once it is gone', async () => {
    const { reconciler, workloads, commands } = await fleet();
    reconciler.start();
    try {
      await reconciler.apply(app, 'ops');
      const first = await waitFor('two replicas', () => {
        const all = workloads.list();
        return all.length === 2 ? all : undefined;
      });
      const [moving] = first;
      expect(reconciler.owns(moving!.spec.name)).toBe(true);
      expect(reconciler.owns('not-a-replica')).toBe(false);
      await reconciler.reschedule(moving!.spec.name, 'drain of host-x');
      const now = workloads.list();
      expect(now.map((w) => w.spec.name)).not.toContain(moving!.spec.name);
      expect(now).toHaveLength(2);
      // The replacement went to the one host that had none, before the replica stopped.
      const free = ['a', 'b', 'c'].find((id) => !first.some((w) => w.serverId === id))!;
      expect(commands.slice(2)).toEqual([`start ${free}`, `stop ${moving!.spec.name} on ${moving!.serverId}`]);
      await expect(reconciler.reschedule('not-a-replica', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      reconciler.close();
    }
  });

  it('rejects a wait when its deployment is deleted', async () => {
    const { reconciler, workloads } = await fleet();
    reconciler.start();
    try {
      await reconciler.apply({ ...app, replicas: 3 }, 'ops');
      const [one] = await waitFor('three replicas', () =>
        workloads.list().length === 3 ? workloads.list() : undefined,
      );
      // Three hosts, three replicas, spread: the replacement has nowhere to go and waits.
      const moved = reconciler.reschedule(one!.spec.name, 'drain');
      await reconciler.delete('app');
      await expect(moved).rejects.toMatchObject({
        code: 'ABORTED',
        message: 'deployment app was deleted: its replicas stop',
      });
    } finally {
      reconciler.close();
    }
  });
});
