import { experimental, type ServerCredentials } from '@grpc/grpc-js';
import { writeFile, rename } from 'node:fs/promises';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { formatJoinToken } from '../../core/pki/join-token.js';
import { CertificateAuthority } from './certificate-authority.js';
import { ensureServerCertificate, type KeyAndCertificate } from './server-certificate.js';
import { serverNames } from './server-names.js';

/** How often the server certificate is looked at; it is renewed with a third of its life left. */
const RENEW_CHECK_MS = 6 * 3600_000;

type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

/**
 * The controller's CA and server certificate as grpc-js takes them: a provider whose
 * listeners hear of a renewed certificate, so the listener serves it without a restart
 * (connections already open keep theirs).
 */
class CertificateSource implements experimental.CertificateProvider {
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  constructor(
    private readonly caPem: string,
    private identity: KeyAndCertificate,
  ) {}

  get current(): KeyAndCertificate {
    return this.identity;
  }

  update(identity: KeyAndCertificate): void {
    this.identity = identity;
    for (const l of this.identityListeners) l(this.identityUpdate());
  }

  // A new listener hears the current certificates on the next tick, not during add: grpc-js
  // registers its server's watcher only after adding its listeners, and an update sent during
  // the add would reach no watcher (the listener would then drop every connection).
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    setImmediate(() => this.caListeners.has(listener) && listener({ caCertificate: Buffer.from(this.caPem) }));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    setImmediate(() => this.identityListeners.has(listener) && listener(this.identityUpdate()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  private identityUpdate() {
    return { certificate: Buffer.from(this.identity.certPem), privateKey: Buffer.from(this.identity.keyPem) };
  }
}

export interface ControllerTls {
  readonly ca: CertificateAuthority;
  /** TLS for the TCP listener: client certificates asked for, not required (Join has none yet); calls check them. */
  readonly credentials: ServerCredentials;
  /** The server certificate served now. */
  readonly serverCertPem: () => string;
  /** Issues a new server certificate (valid from now) when one is due at `nowMs` (checked every few hours). */
  renewIfDue(nowMs?: number): Promise<boolean>;
  close(): void;
}

export interface TlsFiles {
  caKey: string;
  caCert: string;
  serverKey: string;
  serverCert: string;
}

/**
 * The CA (made on first start), the server certificate for the names clients dial (the listen
 * host, the hostname, `--advertise-name`), kept renewed.
 */
export async function startControllerTls(opts: {
  files: TlsFiles;
  listenHost: string;
  advertiseNames: readonly string[];
  log: Logger;
}): Promise<ControllerTls> {
  const names = serverNames(opts.listenHost, opts.advertiseNames);
  const ca = await CertificateAuthority.loadOrCreate(opts.files);
  const source = new CertificateSource(ca.certPem, await ensureServerCertificate(ca, opts.files, names));
  // The declared parameter order (ca, identity) and the constructor's (identity, ca) disagree
  // in grpc-js 1.14; one provider serves both, so the order cannot matter.
  const credentials = experimental.createCertificateProviderServerCredentials(source, source, false);
  const renewIfDue = async (nowMs = Date.now()): Promise<boolean> => {
    const next = await ensureServerCertificate(ca, opts.files, names, nowMs, Date.now());
    if (next.certPem === source.current.certPem) return false;
    source.update(next);
    opts.log.info('server certificate renewed', { notAfter: next.notAfter.toISOString() });
    return true;
  };
  const timer = setInterval(() => {
    renewIfDue().catch((err: unknown) =>
      opts.log.error('could not renew the server certificate', { error: errorMessage(err) }),
    );
  }, RENEW_CHECK_MS).unref();
  return {
    ca,
    credentials,
    serverCertPem: () => source.current.certPem,
    renewIfDue,
    close: () => clearInterval(timer),
  };
}

/** Writes the whole join token (`yard1.<secret>.<CA pin>`) owner-only, where `yard` and `yard token` read it. */
export async function writeJoinToken(file: string, secret: string, ca: CertificateAuthority): Promise<string> {
  const token = formatJoinToken({ secret, caPin: ca.fingerprint });
  await writeFile(`${file}.tmp`, token + '\n', { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return token;
}
