import type { CertificateAuthority } from './certificate-authority.js';
import { type PeerIdentity, peerIdentity } from '../../core/pki/identity.js';
import type { Revocations } from './revocations.js';
import { x509 } from '../../core/pki/x509.js';

export type CertificateProblem = 'untrusted' | 'not-yet-valid' | 'expired' | 'revoked' | 'anonymous';

export type CertificateCheck =
  | { ok: true; identity: PeerIdentity; serial: string }
  | { ok: false; problem: CertificateProblem; message: string };

/**
 * Whether a peer's client certificate (DER or PEM) still admits it, and as whom. node:tls
 * already checks the chain and the dates during the handshake; this is the check a handshake
 * cannot make (revocation) and the one to run again on a long-lived stream, whose certificate
 * may expire or be revoked while it stays open.
 */
export async function checkCertificate(
  cert: Uint8Array | string,
  ca: CertificateAuthority,
  revocations: Revocations,
  nowMs = Date.now(),
): Promise<CertificateCheck> {
  const parsed = new x509.X509Certificate(cert);
  const serial = parsed.serialNumber.toLowerCase();
  const identity = peerIdentity(new Uint8Array(parsed.rawData));
  const who = describe(identity, serial);
  const signed = await parsed.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }).catch(() => false);
  if (!signed) return refuse('untrusted', `${who} was not issued by this controller's CA: ${renewHint(identity)}`);
  if (!identity)
    return refuse('anonymous', `${who} names no yard:// agent or operator: it is not a Switchyard credential`);
  if (nowMs < parsed.notBefore.getTime())
    return refuse(
      'not-yet-valid',
      `${who} is valid only from ${parsed.notBefore.toISOString()}: check this host's clock`,
    );
  if (nowMs >= parsed.notAfter.getTime())
    return refuse('expired', `${who} expired at ${parsed.notAfter.toISOString()}: ${renewHint(identity)}`);
  if (revocations.isRevoked(serial)) return refuse('revoked', `${who} was revoked: ${renewHint(identity)}`);
  return { ok: true, identity, serial };
}

function refuse(problem: CertificateProblem, message: string): CertificateCheck {
  return { ok: false, problem, message };
}

function describe(identity: PeerIdentity | undefined, serial: string): string {
  if (identity?.kind === 'agent') return `the certificate of agent ${identity.serverId} (serial ${serial})`;
  if (identity?.kind === 'operator') return `the credential of operator ${identity.name} (serial ${serial})`;
  return `the certificate with serial ${serial}`;
}

function renewHint(identity: PeerIdentity | undefined): string {
  if (identity?.kind === 'operator') return 'ask an admin for a new credential (`yard access grant NAME`)';
  return 'join the agent again with the join token `yard token` prints on the controller host';
}
