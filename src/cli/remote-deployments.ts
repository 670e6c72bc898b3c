import { isDeepStrictEqual } from 'node:util';
import type { DeploymentStatus } from '../core/deployment.js';
import type { FleetChange } from '../core/fleet.js';
import type { WatchFleetResponse } from '../gen/switchyard/v1/control.js';
import { DEPLOYMENT_LABEL } from '../core/deployment.js';
import type { controlClient } from './client.js';

type Control = ReturnType<typeof controlClient>;

/** Deployment news comes in a burst (a rollout's starts, stops and route changes): one ListDeployments for it. */
const REFRESH_MS = 500;

/**
 * The deployments as an attached dashboard knows them. The fleet stream carries no deployment
 * events: what moves a deployment (its replicas, the reconciler's audit entries, its route) comes
 * on the stream, and each such event has the list asked for again, at most once per REFRESH_MS.
 */
export class RemoteDeployments {
  private all: DeploymentStatus[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly control: () => Control,
    private readonly emit: (change: FleetChange) => void,
  ) {}

  list(): readonly DeploymentStatus[] {
    return this.all;
  }

  /** A stream event that may change a deployment (a snapshot always might). */
  heard(res: WatchFleetResponse): void {
    const e = res.event;
    const moves =
      e?.$case === 'snapshot' ||
      e?.$case === 'route' ||
      e?.$case === 'workloadRemoved' ||
      (e?.$case === 'workload' && e.value.spec?.labels[DEPLOYMENT_LABEL] !== undefined) ||
      (e?.$case === 'audit' && e.value.action.startsWith('deployment.'));
    if (moves) this.soon();
  }

  /** An action's answer, kept at once. */
  learn(status: DeploymentStatus): DeploymentStatus {
    const name = status.deployment?.name ?? '';
    this.all = [...this.all.filter((s) => s.deployment?.name !== name), status].sort(byName);
    this.emit({ kind: 'deployment', name });
    return status;
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private soon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, REFRESH_MS);
  }

  /** A controller that cannot answer (one without deployments) leaves the list empty. */
  private async refresh(): Promise<void> {
    const c = this.control();
    const next = await c.call(c.client.listDeployments, {}).then(
      (res) => [...res.deployments].sort(byName),
      () => undefined,
    );
    if (!next) return;
    const before = new Map(this.all.map((s) => [s.deployment?.name ?? '', s]));
    this.all = next;
    const names = new Set([...before.keys(), ...next.map((s) => s.deployment?.name ?? '')]);
    for (const name of names) {
      const now = next.find((s) => s.deployment?.name === name);
      if (!isDeepStrictEqual(before.get(name), now)) this.emit({ kind: 'deployment', name });
    }
  }
}

const byName = (a: DeploymentStatus, b: DeploymentStatus) =>
  (a.deployment?.name ?? '').localeCompare(b.deployment?.name ?? '');
