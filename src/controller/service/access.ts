import { YardError } from '../../core/errors.js';
import { isLive } from '../../core/format/words.js';
import { checkOperatorName, isRole, ROLES, type Role } from '../../core/pki/roles.js';
import { requestedKey } from '../../core/pki/key-request.js';
import { OPERATOR_LIFETIME_MS } from '../../core/pki/lifetimes.js';
import { printable } from '../../core/printable.js';
import { migrationDone } from '../../core/workload.js';
import { issueOperatorCertificate } from '../pki/client-certificates.js';
import type { IssuedRecord } from '../store.js';
import { change, read } from './operation.js';
import type { ServiceParts } from './parts.js';
import { nameOf, serverNamed } from './servers.js';

/** The longest credential `yard access grant` gives: a forgotten laptop should not hold the fleet for a decade. */
const MAX_GRANT_LIFETIME_MS = 5 * 365 * 24 * 60 * 60 * 1000;

export interface GrantRequest {
  name: string;
  role: string;
  /** 0: the default (365 days). */
  lifetimeMs: number;
  /** PKCS#10 PEM made where the credential will be used. */
  certificateRequest: string;
}

interface Grant {
  name: string;
  role: Role;
  lifetimeMs: number;
  certificateRequest: string;
}

export interface Granted {
  certificate: string;
  caCertificate: string;
  serial: string;
  notAfterMs: number;
}

function checkRole(role: string): Role {
  if (isRole(role)) return role;
  throw new YardError(
    'INVALID_ARGUMENT',
    `role "${printable(role.slice(0, 40))}" is not one of ${ROLES.join(', ')}: a viewer reads, an operator also changes workloads, migrations and routes, an admin also manages access, tokens and servers`,
    { field: 'role' },
  );
}

function checkLifetime(ms: number): number {
  if (ms === 0) return OPERATOR_LIFETIME_MS;
  if (Number.isSafeInteger(ms) && ms > 0 && ms <= MAX_GRANT_LIFETIME_MS) return ms;
  throw new YardError(
    'INVALID_ARGUMENT',
    `a credential's lifetime must be more than 0 and at most 5 years (1825d), not ${ms} ms: give --expires e.g. 30d or 365d`,
    { field: 'lifetime' },
  );
}

/** Who the caller is to this controller, and the role it holds. */
export const whoAmI = read({
  name: 'access.whoami',
  role: 'viewer',
  act: (_: undefined, { caller }) => ({ name: caller.name, role: caller.role, via: caller.via }),
});

/** Issues an operator's credential for the key in the request; the private key never reaches the controller. */
export const grantAccess = change({
  name: 'access.grant',
  role: 'admin',
  validate: (input: GrantRequest): Grant => ({
    name: checkOperatorName(input.name),
    role: checkRole(input.role),
    lifetimeMs: checkLifetime(input.lifetimeMs),
    certificateRequest: input.certificateRequest,
  }),
  target: ({ name, role }: Grant) => `${name} (${role})`,
  act: async ({ name, role, lifetimeMs, certificateRequest }, { parts, caller }): Promise<Granted> => {
    const { ca, store } = parts.access;
    const key = await requestedKey(certificateRequest, `the grant for ${name}`);
    const issued = await issueOperatorCertificate(ca, { name, role }, key, { lifetimeMs });
    const notAfterMs = issued.notAfter.getTime();
    store.putCertificate({
      serial: issued.serial,
      kind: 'operator',
      name,
      role,
      issuedMs: Date.now(),
      notAfterMs,
      issuedBy: caller.name,
      revokedMs: 0,
      revokedBy: '',
    });
    return { certificate: issued.certPem, caCertificate: ca.certPem, serial: issued.serial, notAfterMs };
  },
});

/** Operators' credentials not yet expired, revoked ones included, newest first. */
export const listAccess = read({
  name: 'access.list',
  role: 'admin',
  act: (_: undefined, { parts }): IssuedRecord[] =>
    parts.access.store
      .certificates()
      .filter((c) => c.kind === 'operator')
      .sort((a, b) => b.issuedMs - a.issuedMs),
});

/** Revokes every credential of an operator still in force; open streams they admitted end at once. */
export const revokeAccess = change({
  name: 'access.revoke',
  role: 'admin',
  validate: checkOperatorName,
  target: (name: string) => name,
  act: (name, { parts, caller }): string[] => {
    const { store } = parts.access;
    const serials = store.revokeCertificates('operator', name, caller.name);
    if (serials.length === 0) {
      const held = store.certificates().some((c) => c.kind === 'operator' && c.name === name);
      throw new YardError(
        'NOT_FOUND',
        held
          ? `every credential of "${name}" is already revoked: \`yard access list\` shows them`
          : `no credential in force for "${name}": \`yard access list\` shows who holds one`,
        { name },
      );
    }
    parts.access.onRevoked(serials);
    return serials;
  },
});

/** A new join token; agents that joined keep their certificates. The audit line never holds the token. */
export const rotateJoinToken = change({
  name: 'token.rotate',
  role: 'admin',
  target: () => 'join token',
  act: async (_: undefined, { parts }) => ({ joinToken: await parts.access.rotateJoinToken() }),
});

/** The reasons a server cannot be removed now: what still runs on it, and migrations to or from it. */
function stillBusy(
  parts: Pick<ServiceParts, 'workloads' | 'coordinator'>,
  serverId: string,
): { workloads: string[]; migrations: string[] } {
  return {
    workloads: parts.workloads
      .list()
      .filter((w) => w.serverId === serverId && isLive(w))
      .map((w) => w.spec.name),
    migrations: parts.coordinator
      .list()
      .filter((m) => !migrationDone(m.phase) && (m.sourceServerId === serverId || m.targetServerId === serverId))
      .map((m) => `${m.workload} (${m.id})`),
  };
}

/**
 * Forgets a server and revokes its agent's certificates, so it cannot reconnect; refused while
 * workloads run there or a migration involves it.
 */
export const removeServer = change({
  name: 'server.remove',
  role: 'admin',
  validate: (server: string) => {
    const s = server.trim();
    if (!s)
      throw new YardError('INVALID_ARGUMENT', 'name the server to remove (its name or id): `yard servers` lists them', {
        field: 'server',
      });
    return s;
  },
  target: (server: string, { parts }) => nameOf(parts, server),
  act: (idOrName, { parts, caller }): { serverId: string; serials: string[] } => {
    const { server } = serverNamed(parts, idOrName);
    const busy = stillBusy(parts, server.id);
    if (busy.workloads.length > 0 || busy.migrations.length > 0) {
      const what = [
        busy.workloads.length > 0 ? `runs ${busy.workloads.join(', ')}` : '',
        busy.migrations.length > 0 ? `is in migration ${busy.migrations.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      throw new YardError(
        'FAILED_PRECONDITION',
        `server ${server.name} still ${what}: stop its workloads (\`yard stop NAME\`) or move them (\`yard migrate NAME --to SERVER\`), wait for migrations to end, then remove it`,
        { server: server.id },
      );
    }
    const serials = parts.access.store.revokeCertificates('agent', server.id, caller.name);
    if (serials.length > 0) parts.access.onRevoked(serials);
    parts.registry.remove(server.id);
    // What it ran is forgotten with it (only stopped workloads are left: live ones refuse the removal).
    parts.workloads.replace(server.id, []);
    parts.access.store.removeServer(server.id);
    return { serverId: server.id, serials };
  },
});
