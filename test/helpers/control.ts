import { join } from 'node:path';
import { controlClient, type ControllerTarget } from '../../src/cli/client.js';
import {
  migrationDone,
  migrationPhases,
  workloadStates,
  type Migration,
  type Workload,
} from '../../src/core/workload.js';
import { waitFor } from './procs.js';

/** The Unix socket of the controller whose data dir is `ctlDir`: what the CLI on its host uses. */
export function socketOf(ctlDir: string): string {
  return `unix:${join(ctlDir, 'control.sock')}`;
}

/** A Control client for tests: promise calls with the CLI's readable errors. */
export function control(address: string, tls?: ControllerTarget['tls']) {
  const c = controlClient({ address, from: 'test', tls }, 30_000);
  const api = {
    close: () => c.close(),
    client: c.client,
    call: c.call,
    async workloads(): Promise<Workload[]> {
      return (await c.call(c.client.listWorkloads, {})).workloads;
    },
    /** The workload's output buffer as text (empty if it is not there). */
    logs(name: string): Promise<string> {
      return new Promise((resolve) => {
        let out = '';
        const stream = c.client.logs({ name, follow: false, tailBytes: 0 }, c.metadata);
        stream.on('data', (r: { data: Buffer }) => (out += Buffer.from(r.data).toString()));
        stream.on('end', () => resolve(out));
        stream.on('error', () => resolve(out));
      });
    },
    async migrations(): Promise<Migration[]> {
      return (await c.call(c.client.listMigrations, {})).migrations;
    },
    /** Live instances of a workload (running, paused, restarting, checkpointing). */
    async liveInstances(name: string): Promise<Workload[]> {
      return (await api.workloads()).filter(
        (w) => w.spec?.name === name && !['checkpointed', 'exited'].includes(workloadStates.name(w.state)),
      );
    },
    async waitForMigrationEnd(id: string, timeoutMs = 60_000): Promise<Migration> {
      return waitFor(
        `migration ${id} to end`,
        async () => {
          const m = (await api.migrations()).find((x) => x.id === id);
          return m && migrationDone(m.phase) ? m : undefined;
        },
        timeoutMs,
        200,
      );
    },
    async waitForPhase(id: string, phase: string, timeoutMs = 60_000): Promise<Migration> {
      return waitFor(
        `migration ${id} in ${phase}`,
        async () => {
          const m = (await api.migrations()).find((x) => x.id === id);
          return m && migrationPhases.name(m.phase) === phase ? m : undefined;
        },
        timeoutMs,
        50,
      );
    },
  };
  return api;
}
