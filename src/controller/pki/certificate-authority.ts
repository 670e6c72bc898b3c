import { X509Certificate as NodeX509Certificate, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readCaFiles, writeCaFiles } from './ca-files.js';
import { caFingerprint } from '../../core/pki/fingerprint.js';
import { CA_LIFETIME_MS } from '../../core/pki/lifetimes.js';
import { newSerial } from './serial.js';
import {
  type CryptoKey,
  importPrivateKey,
  KEY_ALGORITHM,
  newKeyPair,
  privateKeyPem,
  x509,
} from '../../core/pki/x509.js';

/** Clocks in a fleet disagree a little: a certificate is valid from a moment before it is made. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

/** What a certificate is for; the CA adds the issuer, serial, key identifiers and signature. */
export interface CertificateRequest {
  /** Subject as RDNs, e.g. `[{ CN: ['srv-1'] }]` (a list, so a comma in a name needs no escaping). */
  subject: x509.JsonName;
  publicKey: CryptoKey;
  lifetimeMs: number;
  extensions: x509.Extension[];
  nowMs?: number;
}

/**
 * The controller's own certificate authority. Made on first start in the data dir (`ca.key`
 * owner-only, `ca.crt`), loaded on every start after; it signs the server certificate, agents'
 * client certificates and operators' credentials.
 */
export class CertificateAuthority {
  private constructor(
    private readonly key: CryptoKey,
    readonly cert: x509.X509Certificate,
    /** The CA certificate as PEM: what peers trust, and what a join token pins. */
    readonly certPem: string,
  ) {}

  private node?: NodeX509Certificate;

  static async loadOrCreate(
    files: { caKey: string; caCert: string },
    nowMs = Date.now(),
  ): Promise<CertificateAuthority> {
    const found = await readCaFiles(files.caKey, files.caCert);
    if (found) return CertificateAuthority.fromPem(found.keyPem, found.certPem);
    const made = await CertificateAuthority.create(nowMs);
    await writeCaFiles(files.caKey, files.caCert, { keyPem: await privateKeyPem(made.key), certPem: made.certPem });
    return made;
  }

  private static async fromPem(keyPem: string, certPem: string): Promise<CertificateAuthority> {
    return new CertificateAuthority(await importPrivateKey(keyPem), new x509.X509Certificate(certPem), certPem);
  }

  private static async create(nowMs: number): Promise<CertificateAuthority> {
    const keys = await newKeyPair();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerial(),
      // A name of its own: a client that trusts several controllers' CAs finds the right issuer by name.
      name: [{ CN: [`Switchyard CA ${hostname()} ${randomBytes(4).toString('hex')}`] }],
      notBefore: new Date(nowMs - CLOCK_SKEW_MS),
      notAfter: new Date(nowMs + CA_LIFETIME_MS),
      keys,
      signingAlgorithm: KEY_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new CertificateAuthority(keys.privateKey, cert, cert.toString('pem'));
  }

  /** The CA certificate as node:crypto reads it: what the per-call checks verify against. */
  get nodeCert(): NodeX509Certificate {
    this.node ??= new NodeX509Certificate(this.certPem);
    return this.node;
  }

  /** `sha256:<hex>` of the CA certificate: the pin a join token carries. */
  get fingerprint(): string {
    return caFingerprint(this.certPem);
  }

  async issue(request: CertificateRequest): Promise<x509.X509Certificate> {
    const nowMs = request.nowMs ?? Date.now();
    return x509.X509CertificateGenerator.create({
      serialNumber: newSerial(),
      subject: request.subject,
      issuer: this.cert.subjectName,
      notBefore: new Date(nowMs - CLOCK_SKEW_MS),
      notAfter: new Date(nowMs + request.lifetimeMs),
      publicKey: request.publicKey,
      signingKey: this.key,
      signingAlgorithm: KEY_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
        ...request.extensions,
      ],
    });
  }
}
