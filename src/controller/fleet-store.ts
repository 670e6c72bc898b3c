import { YardError } from '../core/errors.js';
import type { RouteTable } from '../core/domain.js';
import type { Deployment } from '../core/deployment.js';
import type { RouteChange } from '../core/route.js';
import type { Server } from '../core/types.js';
import type { Migration } from '../core/workload.js';
import type { AuditEntry, ScrapeTarget } from '../gen/switchyard/v1/control.js';
import type { IssuedRecord, StoredServer } from './store.js';

/**
 * A record as read, with the revision a later write of it must name. Revisions come from the
 * backend (etcd's mod revision); 0 means "absent", so a write naming 0 creates and fails if
 * another controller created it first.
 */
export interface Versioned<T> {
  value: T;
  revision: number;
}

/**
 * The fleet's durable state as several controllers can share it (issue 14). Every write resolves
 * only once the backend has it, so the controller acts on nothing that could still be lost.
 * Records two controllers could change at once (migrations, routes, deployments) are written by
 * compare-and-swap on their revision: a stale write fails with ABORTED, never overwrites.
 * Servers, certificates, audit and route changes are each written by one party (the agent's
 * own controller, the issuer, the appender), so they take no revision.
 */
export interface FleetStore {
  /** The fleet's id: the same for every controller on one backend. */
  readonly controllerId: string;

  servers(): Promise<StoredServer[]>;
  putServer(server: Server): Promise<void>;
  removeServer(id: string): Promise<void>;

  /** Issued certificates not yet expired. */
  certificates(nowMs?: number): Promise<IssuedRecord[]>;
  putCertificate(record: IssuedRecord, nowMs?: number): Promise<void>;
  /** Revokes every certificate of that kind and name still in force; returns their serials. */
  revokeCertificates(kind: IssuedRecord['kind'], name: string, by: string, nowMs?: number): Promise<string[]>;

  /** Newest first; finished ones beyond the history cap are gone. */
  migrations(): Promise<Versioned<Migration>[]>;
  migration(id: string): Promise<Versioned<Migration> | undefined>;
  /** Writes if the stored revision is still `expected`; returns the new revision. */
  putMigration(m: Migration, expected: number): Promise<number>;

  /** Newest first; `limit` 0 means every entry kept. */
  audit(limit?: number): Promise<AuditEntry[]>;
  putAudit(entry: AuditEntry): Promise<void>;

  /** By name. */
  routes(): Promise<Versioned<RouteTable>[]>;
  route(name: string): Promise<Versioned<RouteTable> | undefined>;
  putRoute(route: RouteTable, expected: number): Promise<number>;
  removeRoute(name: string, expected: number): Promise<void>;

  /** By name. */
  deployments(): Promise<Versioned<Deployment>[]>;
  deployment(name: string): Promise<Versioned<Deployment> | undefined>;
  putDeployment(d: Deployment, expected: number): Promise<number>;
  removeDeployment(name: string, expected: number): Promise<void>;

  /** Hosts without an agent that the controller polls, by name; written by one operator's call each. */
  scrapeTargets(): Promise<ScrapeTarget[]>;
  putScrapeTarget(target: ScrapeTarget): Promise<void>;
  removeScrapeTarget(name: string): Promise<void>;

  /** Newest first. */
  routeChanges(): Promise<RouteChange[]>;
  addRouteChange(change: RouteChange): Promise<void>;

  close(): Promise<void>;
}

/** The one error a lost compare-and-swap gives, whichever backend. */
export function staleWrite(what: string, expected: number, actual: number): YardError {
  const now = actual === 0 ? 'it is gone' : `it is now at revision ${actual}`;
  const had = expected === 0 ? 'expected it not to exist' : `read revision ${expected}`;
  return new YardError(
    'ABORTED',
    `${what} was changed by another controller (this one ${had}, ${now}); read it again and retry`,
    { expectedRevision: String(expected), actualRevision: String(actual) },
  );
}
