// Deployments for the dashboard's tests: status records shaped like the controller's, and the
// scale and restart actions recorded and applied to them (as the controller would, at once).
import type { Deployment, DeploymentStatus } from '../../src/core/deployment.js';
import type { DeploymentActions } from '../../src/core/fleet.js';
import { parseDeploymentFile } from '../../src/core/schema/deployment.js';
import { WorkloadState } from '../../src/core/workload.js';

export class FixtureDeployments implements DeploymentActions {
  private readonly byName = new Map<string, DeploymentStatus>();
  /** What the keys asked for, in order: "scale web 4", "restart web". */
  readonly calls: string[] = [];

  constructor(private readonly changed: (name: string) => void) {}

  list(): readonly DeploymentStatus[] {
    return [...this.byName.values()].sort((a, b) => a.deployment!.name.localeCompare(b.deployment!.name));
  }

  /** A deployment with a replica on each of `servers`, the last `unhealthy` of them not healthy. */
  put(name: string, servers: string[], unhealthy = 0, route = ''): void {
    const replicas = servers.length;
    const d: Deployment = {
      ...parseDeploymentFile(
        `name: ${name}\nreplicas: ${replicas}\ntemplate: {command: /bin/sleep, args: ["60"], ports: [9000]}\n${route ? `route: {name: ${route}}\n` : ''}`,
        `${name}.yaml`,
      ),
      version: 3,
    };
    const rows = Array.from({ length: replicas }, (_, i) => ({
      workload: `${name}-3-${(0xa000 + i).toString(16)}`,
      serverId: servers[i]!,
      version: 3,
      state: WorkloadState.WORKLOAD_STATE_RUNNING,
      healthy: i < replicas - unhealthy,
    }));
    this.byName.set(name, {
      deployment: d,
      desired: replicas,
      running: replicas,
      healthy: replicas - unhealthy,
      replicas: rows,
      message: '',
    });
    this.changed(name);
  }

  async scaleDeployment(name: string, replicas: number): Promise<DeploymentStatus> {
    this.calls.push(`scale ${name} ${replicas}`);
    const s = this.byName.get(name)!;
    const next = { ...s, desired: replicas, deployment: { ...s.deployment!, replicas } };
    this.byName.set(name, next);
    this.changed(name);
    return next;
  }

  async restartDeployment(name: string): Promise<DeploymentStatus> {
    this.calls.push(`restart ${name}`);
    const s = this.byName.get(name)!;
    const next = { ...s, deployment: { ...s.deployment!, version: s.deployment!.version + 1 } };
    this.byName.set(name, next);
    this.changed(name);
    return next;
  }
}
