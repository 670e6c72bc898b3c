import type { AgentLinks } from '../agent-links.js';
import type { AuditLog } from '../audit.js';
import type { Coordinator } from '../migration/coordinator.js';
import type { Registry } from '../registry.js';
import type { Router } from '../router/router.js';
import type { WorkloadCommands } from '../workload-commands.js';
import type { WorkloadTable } from '../workloads.js';

/** What the operations act on: the controller's parts, reached only through the service. */
export interface ServiceParts {
  registry: Registry;
  workloads: WorkloadTable;
  links: AgentLinks;
  coordinator: Coordinator;
  router: Router;
  audit: AuditLog;
  /** Stop, restart, logs and consoles at the workload's agent. */
  workloadCommands: WorkloadCommands;
  /** What the overview tells about this controller. */
  about: { controllerId: string; version: string; listen: string; startedMs: number };
}
