import { X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from './certificate-authority.js';
import { type PeerIdentity, agentUri, controllerUri, operatorUri } from '../../core/pki/identity.js';
import { isRole } from '../../core/pki/roles.js';

export type CertificateProblem = 'untrusted' | 'not-yet-valid' | 'expired' | 'revoked' | 'anonymous';

export type CertificateCheck =
  | { ok: true; identity: PeerIdentity; serial: string; notAfterMs: number }
  | { ok: false; problem: CertificateProblem; message: string };

/** What a check asks of the revocation list (the store keeps it). */
export interface RevocationList {
  isRevoked(serial: string): boolean;
}

/** A serial as one compares it: lower-case hex without leading zeros (node and @peculiar/x509 write them differently). */
export function normalSerial(serial: string): string {
  return serial.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * Whether a peer's client certificate (DER or PEM) still admits it, and as whom. Synchronous
 * (node:crypto), so it runs on every call: node:tls has checked the chain and the dates in the
 * handshake, but not revocation, and a long-lived stream outlives both.
 */
export function checkCertificate(
  cert: Uint8Array | string,
  ca: CertificateAuthority,
  revocations: RevocationList,
  nowMs = Date.now(),
): CertificateCheck {
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  } catch {
    return refuse('untrusted', 'the peer presented something that is not an X.509 certificate');
  }
  const serial = normalSerial(parsed.serialNumber);
  const identity = identityOf(parsed);
  const who = describe(identity, serial);
  const issuer = ca.nodeCert;
  if (!parsed.checkIssued(issuer) || !parsed.verify(issuer.publicKey))
    return refuse('untrusted', `${who} was not issued by this controller's CA: ${renewHint(identity)}`);
  if (!identity)
    return refuse(
      'anonymous',
      `${who} names no yard:// agent, operator or controller: it is not a Switchyard credential`,
    );
  const notBefore = new Date(parsed.validFrom).getTime();
  const notAfterMs = new Date(parsed.validTo).getTime();
  if (nowMs < notBefore)
    return refuse(
      'not-yet-valid',
      `${who} is valid only from ${new Date(notBefore).toISOString()}: check this host's clock`,
    );
  if (nowMs >= notAfterMs)
    return refuse('expired', `${who} expired at ${new Date(notAfterMs).toISOString()}: ${renewHint(identity)}`);
  if (revocations.isRevoked(serial)) return refuse('revoked', `${who} was revoked: ${renewHint(identity)}`);
  return { ok: true, identity, serial, notAfterMs };
}

/** The identity in the certificate's `yard://` SAN URI; an operator's role is the subject's OU. */
function identityOf(cert: X509Certificate): PeerIdentity | undefined {
  const uris = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('URI:'))
    .map((n) => n.slice(4));
  const agentPrefix = agentUri('');
  const operatorPrefix = operatorUri('');
  const controllerPrefix = controllerUri('');
  for (const uri of uris) {
    if (uri.startsWith(agentPrefix))
      return { kind: 'agent', serverId: decodeURIComponent(uri.slice(agentPrefix.length)) };
    if (uri.startsWith(controllerPrefix))
      return { kind: 'controller', controllerId: decodeURIComponent(uri.slice(controllerPrefix.length)) };
    if (uri.startsWith(operatorPrefix)) {
      const role = cert.subject
        .split('\n')
        .find((f) => f.startsWith('OU='))
        ?.slice(3);
      if (!isRole(role)) return undefined;
      return { kind: 'operator', name: decodeURIComponent(uri.slice(operatorPrefix.length)), role };
    }
  }
  return undefined;
}

function refuse(problem: CertificateProblem, message: string): CertificateCheck {
  return { ok: false, problem, message };
}

function describe(identity: PeerIdentity | undefined, serial: string): string {
  if (identity?.kind === 'agent') return `the certificate of agent ${identity.serverId} (serial ${serial})`;
  if (identity?.kind === 'operator') return `the credential of operator ${identity.name} (serial ${serial})`;
  if (identity?.kind === 'controller')
    return `the certificate of controller ${identity.controllerId} (serial ${serial})`;
  return `the certificate with serial ${serial}`;
}

function renewHint(identity: PeerIdentity | undefined): string {
  if (identity?.kind === 'operator') return 'ask an admin for a new credential (`yard access grant NAME`)';
  return 'join the agent again with the join token `yard token` prints on the controller host';
}
