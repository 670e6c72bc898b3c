import { createHash } from 'node:crypto';
import { x509 } from './x509.js';

/**
 * The pin of a CA: `sha256:<hex>` of its certificate's DER, as kubeadm's
 * `--discovery-token-ca-cert-hash` writes it (`openssl x509 -outform der | sha256sum`).
 */
export function caFingerprint(caCertPem: string): string {
  const der = Buffer.from(x509.PemConverter.decodeFirst(caCertPem));
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}
