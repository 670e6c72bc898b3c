import { YardError } from '../errors.js';
import { type CryptoKey, type CryptoKeyPair, KEY_ALGORITHM, x509 } from './x509.js';

/**
 * A certificate request (PKCS#10, PEM) for a key pair made where it will be used: the agent
 * joining, or an operator's CLI. Only the public key leaves; the signature proves its holder
 * has the private key. The subject is left empty: the controller decides the names.
 */
export async function keyRequest(keys: CryptoKeyPair): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: KEY_ALGORITHM });
  return csr.toString('pem');
}

/** The public key of a request whose signature holds, for the CA to certify. */
export async function requestedKey(pem: string, from: string): Promise<CryptoKey> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch {
    throw new YardError(
      'INVALID_ARGUMENT',
      `${from} sent a certificate request that is not PKCS#10 PEM: upgrade it to this Switchyard version`,
    );
  }
  if (!(await csr.verify()))
    throw new YardError(
      'INVALID_ARGUMENT',
      `${from} sent a certificate request whose signature does not hold: it must be made afresh with the key it names`,
    );
  return csr.publicKey.export(KEY_ALGORITHM, ['verify']);
}
