// Agent credentials for the bench's direct-transfer drivers: a controller CA made by the real
// PKI code in a temp dir, and one key + certificate per server id, as agents hold them.
import { CertificateAuthority } from '../src/controller/pki/certificate-authority.js';
import { issueAgentCertificate } from '../src/controller/pki/client-certificates.js';
import type { PeerTls } from '../src/agent/peer-transfer.js';
import { controllerFiles } from '../src/core/paths.js';
import { newKeyPair, privateKeyPem } from '../src/core/pki/x509.js';
import { tempDir } from './lib.js';

/** The source and the target of a bench transfer, each with its own certificate from one CA. */
export async function peerCredentials(ids: { source: string; target: string }): Promise<{
  source: PeerTls;
  target: PeerTls;
}> {
  const ca = await CertificateAuthority.loadOrCreate(controllerFiles(tempDir('yard-bench-ca-')));
  const one = async (id: string): Promise<PeerTls> => {
    const keys = await newKeyPair();
    const issued = await issueAgentCertificate(ca, id, keys.publicKey);
    return { caPem: ca.certPem, keyPem: await privateKeyPem(keys.privateKey), certPem: issued.certPem };
  };
  return { source: await one(ids.source), target: await one(ids.target) };
}
