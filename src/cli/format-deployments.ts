import type { DeploymentStatus } from '../core/deployment.js';
import { autoscaleMetrics } from '../core/deployment.js';
import { printable, printableJson } from '../core/printable.js';
import { workloadStates } from '../core/workload.js';

type Names = ReadonlyMap<string, string>;

/** "3/3 running, 2 healthy": the counts a list row and a status header share. */
function counts(s: DeploymentStatus): string {
  return `${s.running}/${s.desired} running, ${s.healthy} healthy`;
}

function autoscaleText(s: DeploymentStatus): string {
  const a = s.deployment?.autoscale;
  if (!a) return 'off';
  return `${a.min}-${a.max} on ${autoscaleMetrics.name(a.metric)} ${a.target}, cooldown ${Math.round(a.cooldownMs / 1000)}s`;
}

/** `yard deploy list`: a row per deployment. */
export function listText(all: DeploymentStatus[]): string {
  if (all.length === 0) return 'no deployments: `yard deploy apply -f app.yaml` creates one\n';
  const rows = all.map((s) => [
    s.deployment?.name ?? '',
    `v${s.deployment?.version ?? 0}`,
    `${s.desired}`,
    `${s.running}`,
    `${s.healthy}`,
    s.deployment?.route?.name || '-',
    s.deployment?.autoscale ? 'on' : 'off',
  ]);
  return table(['NAME', 'VERSION', 'DESIRED', 'RUNNING', 'HEALTHY', 'ROUTE', 'AUTOSCALE'], rows);
}

/** `yard deploy status NAME`: the deployment, then a row per replica. */
export function statusText(s: DeploymentStatus, names: Names): string {
  const d = s.deployment;
  const lines = [
    `${d?.name} v${d?.version}: ${counts(s)}`,
    `  route: ${d?.route?.name ? `${d.route.name} (port ${d.route.port})` : 'none'}   autoscale: ${autoscaleText(s)}`,
    ...(s.message ? [`  last: ${s.message}`] : []),
  ];
  const rows = s.replicas.map((r) => [
    r.workload,
    names.get(r.serverId) ?? r.serverId,
    `v${r.version}`,
    workloadStates.name(r.state),
    r.healthy ? 'yes' : 'no',
  ]);
  const body = rows.length ? table(['REPLICA', 'SERVER', 'VERSION', 'STATE', 'HEALTHY'], rows) : '  no replicas\n';
  return lines.map((l) => printable(l)).join('\n') + '\n' + body;
}

/** `--json`: the status with server names and words for enums. */
export function statusJson(s: DeploymentStatus, names: Names): Record<string, unknown> {
  return {
    name: s.deployment?.name,
    version: s.deployment?.version,
    desired: s.desired,
    running: s.running,
    healthy: s.healthy,
    message: s.message,
    route: s.deployment?.route?.name || null,
    replicas: s.replicas.map((r) => ({
      workload: r.workload,
      server: names.get(r.serverId) ?? r.serverId,
      serverId: r.serverId,
      version: r.version,
      state: workloadStates.name(r.state),
      healthy: r.healthy,
    })),
  };
}

export const toJson = (value: unknown): string => printableJson(value, 2) + '\n';

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].map((l) => printable(l)).join('\n') + '\n';
}
