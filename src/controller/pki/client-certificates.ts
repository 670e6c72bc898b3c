import type { CertificateAuthority } from './certificate-authority.js';
import { agentUri, controllerUri, operatorUri, type Role } from '../../core/pki/identity.js';
import { AGENT_LIFETIME_MS, OPERATOR_LIFETIME_MS } from '../../core/pki/lifetimes.js';
import { type CryptoKey, x509 } from '../../core/pki/x509.js';

/** A client certificate: its PEM, and the serial that revokes it. */
export interface IssuedCertificate {
  certPem: string;
  serial: string;
  notAfter: Date;
}

/** An agent's client certificate: it speaks for `serverId` (SAN URI `yard://server/<id>`). */
export async function issueAgentCertificate(
  ca: CertificateAuthority,
  serverId: string,
  publicKey: CryptoKey,
  options: { lifetimeMs?: number; nowMs?: number } = {},
): Promise<IssuedCertificate> {
  // Also serverAuth: an agent serves checkpoint transfers to its peers (issue 13), with this certificate.
  return issueClient(ca, publicKey, [{ CN: [serverId] }], agentUri(serverId), options, [
    x509.ExtendedKeyUsage.clientAuth,
    x509.ExtendedKeyUsage.serverAuth,
  ]);
}

/** An operator's credential: `name` (SAN URI `yard://operator/<name>`) with `role` as the subject's OU. */
export async function issueOperatorCertificate(
  ca: CertificateAuthority,
  operator: { name: string; role: Role },
  publicKey: CryptoKey,
  options: { lifetimeMs?: number; nowMs?: number } = {},
): Promise<IssuedCertificate> {
  const subject: x509.JsonName = [{ CN: [operator.name] }, { OU: [operator.role] }];
  return issueClient(ca, publicKey, subject, operatorUri(operator.name), {
    lifetimeMs: options.lifetimeMs ?? OPERATOR_LIFETIME_MS,
    nowMs: options.nowMs,
  });
}

/**
 * A controller's client certificate (SAN URI `yard://controller/<id>`): a follower presents it to
 * the leader, whose calls it relays. Short-lived: a follower issues a new one for each leader.
 */
export async function issueControllerCertificate(
  ca: CertificateAuthority,
  controllerId: string,
  publicKey: CryptoKey,
  options: { lifetimeMs?: number; nowMs?: number } = {},
): Promise<IssuedCertificate> {
  return issueClient(ca, publicKey, [{ CN: [controllerId] }], controllerUri(controllerId), options);
}

async function issueClient(
  ca: CertificateAuthority,
  publicKey: CryptoKey,
  subject: x509.JsonName,
  uri: string,
  options: { lifetimeMs?: number; nowMs?: number },
  usages: string[] = [x509.ExtendedKeyUsage.clientAuth],
): Promise<IssuedCertificate> {
  const cert = await ca.issue({
    subject,
    publicKey,
    lifetimeMs: options.lifetimeMs ?? AGENT_LIFETIME_MS,
    nowMs: options.nowMs,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: uri }]),
      new x509.ExtendedKeyUsageExtension(usages),
    ],
  });
  return { certPem: cert.toString('pem'), serial: cert.serialNumber.toLowerCase(), notAfter: cert.notAfter };
}
