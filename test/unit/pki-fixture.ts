// A controller's CA in a fresh data dir, and the key + certificate pairs the PKI tests hand to
// node:tls, all made by the real code under test.
import { CertificateAuthority } from '../../src/controller/pki/certificate-authority.js';
import { issueAgentCertificate } from '../../src/controller/pki/client-certificates.js';
import { privateKeyPem, newKeyPair } from '../../src/core/pki/x509.js';
import { controllerFiles } from '../../src/core/paths.js';
import { tempDir } from '../helpers/procs.js';

export async function newCa(dataDir = tempDir('yard-pki-')): Promise<{ ca: CertificateAuthority; dataDir: string }> {
  return { ca: await CertificateAuthority.loadOrCreate(controllerFiles(dataDir)), dataDir };
}

/** An agent's key (made as the agent would) and the certificate its CA issues for `serverId`. */
export async function agentCredential(
  ca: CertificateAuthority,
  serverId: string,
  options: { lifetimeMs?: number; nowMs?: number } = {},
): Promise<{ keyPem: string; certPem: string; serial: string }> {
  const keys = await newKeyPair();
  const issued = await issueAgentCertificate(ca, serverId, keys.publicKey, options);
  return { keyPem: await privateKeyPem(keys.privateKey), certPem: issued.certPem, serial: issued.serial };
}
