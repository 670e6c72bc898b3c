import { isRole, type Role } from './roles.js';
import { x509 } from './x509.js';

// Roles live in roles.ts, which loads no X.509 code: every CLI command and the dashboard need them.
export type { Role } from './roles.js';

/**
 * Who a client certificate speaks for: an agent (its server id), an operator (name and role), or
 * another controller of the fleet (a follower relaying its clients' calls to the leader).
 */
export type PeerIdentity =
  | { kind: 'agent'; serverId: string }
  | { kind: 'operator'; name: string; role: Role }
  | { kind: 'controller'; controllerId: string };

const AGENT_URI = 'yard://server/';
const OPERATOR_URI = 'yard://operator/';
const CONTROLLER_URI = 'yard://controller/';

export function agentUri(serverId: string): string {
  return AGENT_URI + encodeURIComponent(serverId);
}

export function operatorUri(name: string): string {
  return OPERATOR_URI + encodeURIComponent(name);
}

export function controllerUri(controllerId: string): string {
  return CONTROLLER_URI + encodeURIComponent(controllerId);
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
    if (uri.startsWith(CONTROLLER_URI))
      return { kind: 'controller', controllerId: decodeURIComponent(uri.slice(CONTROLLER_URI.length)) };
    if (uri.startsWith(OPERATOR_URI)) {
      const role = cert.subjectName.getField('OU')[0];
      if (!isRole(role)) return undefined;
      return { kind: 'operator', name: decodeURIComponent(uri.slice(OPERATOR_URI.length)), role };
    }
  }
  return undefined;
}
