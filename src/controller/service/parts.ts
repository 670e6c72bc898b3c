import type { ControllerMember } from '../../gen/switchyard/v1/control.js';
import type { AgentLinks } from '../agent-links.js';
import type { AuditLog } from '../audit.js';
import type { DeploymentReconciler } from '../deployments/reconciler.js';
import type { Drainer } from '../drain/drainer.js';
import type { Coordinator } from '../migration/coordinator.js';
import type { CertificateAuthority } from '../pki/certificate-authority.js';
import type { Registry } from '../registry.js';
import type { Router } from '../router/router.js';
import type { Scraper } from '../scrape/scraper.js';
import type { Store } from '../store.js';
import type { WorkloadCommands } from '../workload-commands.js';
import type { WorkloadTable } from '../workloads.js';

/** What the access operations need beyond the fleet: the CA, the issued certificates, and two hooks into the transport. */
export interface AccessParts {
  ca: CertificateAuthority;
  store: Pick<Store, 'certificates' | 'putCertificate' | 'revokeCertificates' | 'removeServer'>;
  /** Writes a new join-token secret and returns the whole token (`yard1.<secret>.sha256:<pin>`). */
  rotateJoinToken(): Promise<string>;
  /** These certificates were just revoked: end whatever open stream or call they admitted, at once. */
  onRevoked(serials: string[]): void;
}

/** What the operations act on: the controller's parts, reached only through the service. */
export interface ServiceParts {
  registry: Registry;
  workloads: WorkloadTable;
  links: AgentLinks;
  coordinator: Coordinator;
  router: Router;
  /** Cordons, uncordons and drains hosts. */
  drainer: Drainer;
  audit: AuditLog;
  /** Deployments: their specs, the replicas that run them, and the decisions that keep them. */
  deployments: DeploymentReconciler;
  /** Stop, restart, logs and consoles at the workload's agent. */
  workloadCommands: WorkloadCommands;
  /** Operators' credentials, agents' certificates and the join token. */
  access: AccessParts;
  /** Hosts without an agent: the poller and where their targets are kept. */
  scrape: {
    scraper: Scraper;
    store: Pick<Store, 'scrapeTarget' | 'putScrapeTarget' | 'removeScrapeTarget' | 'removeServer' | 'flush'>;
  };
  /** What the overview tells about this controller. */
  about: { controllerId: string; version: string; listen: string; startedMs: number; store: string };
  /** With etcd: the controllers on it now, the leader first (none with the file store). */
  controllers(): ControllerMember[];
}
