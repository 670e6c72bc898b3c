import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { CertificateAuthority } from './certificate-authority.js';
import { renewalDue, SERVER_LIFETIME_MS } from '../../core/pki/lifetimes.js';
import type { ServerNames } from './server-names.js';
import { newKeyPair, privateKeyPem, x509 } from '../../core/pki/x509.js';

/** A key and the certificate for it, as PEM: what node:tls and grpc-js take. */
export interface KeyAndCertificate {
  keyPem: string;
  certPem: string;
  notAfter: Date;
}

/** A new server certificate for `names`, with a key made for it. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  names: ServerNames,
  nowMs = Date.now(),
): Promise<KeyAndCertificate> {
  const keys = await newKeyPair();
  const cert = await ca.issue({
    subject: [{ CN: [names.dns[0] ?? names.ips[0] ?? 'switchyard'] }],
    publicKey: keys.publicKey,
    lifetimeMs: SERVER_LIFETIME_MS,
    nowMs,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  return { keyPem: await privateKeyPem(keys.privateKey), certPem: cert.toString('pem'), notAfter: cert.notAfter };
}

/**
 * The server certificate kept in the data dir (`server.key` 0600, `server.crt`), issued anew
 * when there is none, when it is not this CA's, when the names changed, or when less than a
 * third of its life is left. Call it at start and then on a timer (daily is plenty).
 */
export async function ensureServerCertificate(
  ca: CertificateAuthority,
  files: { serverKey: string; serverCert: string },
  names: ServerNames,
  nowMs = Date.now(),
  /** When a new one is issued from (default `nowMs`): a check made for a later time still issues a certificate valid now. */
  issueAtMs = nowMs,
): Promise<KeyAndCertificate> {
  const kept = await readKept(files);
  if (kept && (await stillGood(ca, kept, names, nowMs)))
    return { keyPem: kept.keyPem, certPem: kept.certPem, notAfter: kept.notAfter };
  const fresh = await issueServerCertificate(ca, names, issueAtMs);
  // Each file is replaced whole (write aside, rename), so a reader never sees half a PEM.
  await replace(files.serverKey, fresh.keyPem, 0o600);
  await replace(files.serverCert, fresh.certPem, 0o644);
  return fresh;
}

/**
 * The kept pair, or undefined when there is none to keep: missing, unreadable as PEM, or a key
 * and certificate that do not belong together (a crash between the two renames). The files are
 * ours and derived from the CA, so such a pair is simply issued anew.
 */
async function readKept(files: { serverKey: string; serverCert: string }): Promise<KeptPair | undefined> {
  let keyPem: string;
  let certPem: string;
  try {
    [keyPem, certPem] = await Promise.all([readFile(files.serverKey, 'utf8'), readFile(files.serverCert, 'utf8')]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    const cert = new x509.X509Certificate(certPem);
    return { keyPem, certPem, notAfter: cert.notAfter, cert };
  } catch {
    return undefined;
  }
}

interface KeptPair extends KeyAndCertificate {
  cert: x509.X509Certificate;
}

async function stillGood(
  ca: CertificateAuthority,
  kept: KeptPair,
  names: ServerNames,
  nowMs: number,
): Promise<boolean> {
  const signed = await kept.cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true });
  return signed && !renewalDue(kept.cert, nowMs) && sameNames(kept.cert, names);
}

function sameNames(cert: x509.X509Certificate, names: ServerNames): boolean {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const held = (san?.names.items ?? []).map((n) => `${n.type}:${n.value}`).sort();
  const wanted = [...names.dns.map((n) => `dns:${n}`), ...names.ips.map((n) => `ip:${n}`)].sort();
  return held.join(',') === wanted.join(',');
}

async function replace(file: string, text: string, mode: number): Promise<void> {
  const aside = `${file}.new`;
  // A leftover from a crash keeps its old mode through writeFile: start from no file.
  await rm(aside, { force: true });
  await writeFile(aside, text, { mode });
  await rename(aside, file);
}
