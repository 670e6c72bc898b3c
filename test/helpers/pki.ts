import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { writeCredential } from '../../src/cli/credential.js';
import { CertificateAuthority } from '../../src/controller/pki/certificate-authority.js';
import { issueAgentCertificate, issueOperatorCertificate } from '../../src/controller/pki/client-certificates.js';
import type { Role } from '../../src/core/pki/identity.js';
import { type CryptoKey, newKeyPair, privateKeyPem } from '../../src/core/pki/x509.js';
import { controllerFiles } from '../../src/core/paths.js';
import { tempDir } from './procs.js';

/** PEMs a TLS client presents: the CA to trust, its key and certificate. */
export interface ClientPems {
  caPem: string;
  keyPem: string;
  certPem: string;
}

/**
 * A client certificate minted straight from the CA in a controller's data dir (the test can read
 * it; nobody else can): for raw clients that test what the controller does with a certified peer.
 * Minted certificates are not in the controller's store: revoking goes through `yard access`.
 */
async function mint(
  ctlDir: string,
  issue: (ca: CertificateAuthority, key: CryptoKey) => Promise<{ certPem: string }>,
): Promise<ClientPems> {
  const ca = await CertificateAuthority.loadOrCreate(controllerFiles(ctlDir));
  const keys = await newKeyPair();
  const { certPem } = await issue(ca, keys.publicKey);
  return { caPem: ca.certPem, keyPem: await privateKeyPem(keys.privateKey), certPem };
}

/** An agent's certificate for `serverId`, from the CA of the controller in `ctlDir`. */
export function agentPems(ctlDir: string, serverId: string): Promise<ClientPems> {
  return mint(ctlDir, (ca, key) => issueAgentCertificate(ca, serverId, key));
}

/** An operator's credential with `role`, from the CA of the controller in `ctlDir`. */
export function operatorPems(ctlDir: string, name: string, role: Role): Promise<ClientPems> {
  return mint(ctlDir, (ca, key) => issueOperatorCertificate(ca, { name, role }, key));
}

export function channelOf(p: ClientPems): ChannelCredentials {
  return credentials.createSsl(Buffer.from(p.caPem), Buffer.from(p.keyPem), Buffer.from(p.certPem));
}

/** TLS that trusts the controller's CA and presents no certificate (what a joining agent starts with). */
export async function anonymousChannel(ctlDir: string): Promise<ChannelCredentials> {
  const ca = await CertificateAuthority.loadOrCreate(controllerFiles(ctlDir));
  return credentials.createSsl(Buffer.from(ca.certPem));
}

/** A credential file as `yard access grant` writes it (with its writer), for `--credential FILE`. */
export async function credentialFile(ctlDir: string, controller: string, name: string, role: Role): Promise<string> {
  const p = await operatorPems(ctlDir, name, role);
  const file = join(tempDir('yard-cred-'), `${name}.json`);
  await writeCredential(file, {
    name,
    role,
    controller,
    notAfterMs: new Date(new X509Certificate(p.certPem).validTo).getTime(),
    certificate: p.certPem,
    key: p.keyPem,
    ca: p.caPem,
  });
  return file;
}
