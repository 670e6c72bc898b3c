import { YardError } from '../errors.js';
import { printable } from '../printable.js';
import { x509 } from './x509.js';

/** What an operator's credential may do, least to most. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** An operator's name: what the certificate, the audit trail and `yard access list` show. */
const OPERATOR_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** `name` when it can be an operator's; else INVALID_ARGUMENT saying what a name may hold. */
export function checkOperatorName(name: string): string {
  if (OPERATOR_NAME.test(name)) return name;
  throw new YardError(
    'INVALID_ARGUMENT',
    `operator name "${printable(name.slice(0, 80))}" is not valid: use 1 to 64 letters, digits, . _ @ or - (e.g. alice or alice@noc)`,
    { field: 'name' },
  );
}

/** True when `held` is `needed` or a stronger role: an admin may do what an operator may. */
export function roleHolds(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** Who a client certificate speaks for: an agent (its server id) or an operator (name and role). */
export type PeerIdentity = { kind: 'agent'; serverId: string } | { kind: 'operator'; name: string; role: Role };

const AGENT_URI = 'yard://server/';
const OPERATOR_URI = 'yard://operator/';

export function agentUri(serverId: string): string {
  return AGENT_URI + encodeURIComponent(serverId);
}

export function operatorUri(name: string): string {
  return OPERATOR_URI + encodeURIComponent(name);
}

/**
 * The identity a peer certificate (DER, as `socket.getPeerX509Certificate().raw` gives it)
 * carries in its `yard://` SAN URI; the role of an operator is the subject's OU. Undefined for
 * a certificate that names neither: such a peer is no one of ours.
 */
export function peerIdentity(der: Uint8Array): PeerIdentity | undefined {
  const cert = new x509.X509Certificate(der);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
  for (const uri of uris) {
    if (uri.startsWith(AGENT_URI)) return { kind: 'agent', serverId: decodeURIComponent(uri.slice(AGENT_URI.length)) };
    if (uri.startsWith(OPERATOR_URI)) {
      const role = cert.subjectName.getField('OU')[0];
      if (!isRole(role)) return undefined;
      return { kind: 'operator', name: decodeURIComponent(uri.slice(OPERATOR_URI.length)), role };
    }
  }
  return undefined;
}

function isRole(value: string | undefined): value is Role {
  return (ROLES as readonly (string | undefined)[]).includes(value);
}
