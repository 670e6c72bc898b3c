import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import { parseHostPort } from '../core/address.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { agentFiles } from '../core/paths.js';
import { caFingerprint } from '../core/pki/fingerprint.js';
import { parseJoinToken, pinMatches } from '../core/pki/join-token.js';
import { keyRequest } from '../core/pki/key-request.js';
import { renewalDue } from '../core/pki/lifetimes.js';
import { importKeyPair, newKeyPair, privateKeyPem } from '../core/pki/x509.js';
import { errorDetailOf } from '../core/rpc/errors.js';
import { CLIENT_OPTIONS } from '../core/rpc/options.js';
import { AgentGatewayClient } from '../gen/switchyard/v1/agent_gateway.js';
import { Rotation } from './backoff.js';

/** What an agent holds to speak to its controller: the CA it pinned, its key, its certificate (PEM). */
interface Held {
  caPem: string;
  keyPem: string;
  certPem: string;
}

const CALL_TIMEOUT_MS = 15_000;
/** A join that cannot reach the controller is tried again for this long before the agent gives up. */
const JOIN_PATIENCE_MS = 10 * 60_000;

/**
 * The agent's TLS identity: joined once with the join token (after checking the controller's
 * CA against the token's pin, before sending anything), kept owner-only in its data dir, and
 * renewed by itself. Every channel the agent opens takes its credentials from here, so a
 * renewed certificate is used from the next connection on.
 */
export class AgentTls {
  private constructor(
    private held: Held,
    private readonly files: ReturnType<typeof agentFiles>,
    /** The first controller of the list: where renewals go unless told the one the session is with. */
    private readonly controller: string,
    private readonly log: Logger,
  ) {}

  /** Bumped on every renewal: a channel made before it may be replaced. */
  version = 0;

  /**
   * The kept certificate when it is this controller's and still good; else joins with the
   * token (a token whose pin names another CA than the kept one joins afresh).
   */
  static async open(opts: {
    dataDir: string;
    /** One controller, or several to try in turn (`--controller A,B`: they share one CA). */
    controller: string | readonly string[];
    joinToken?: string;
    serverId: string;
    hostname: string;
    name: string;
    log: Logger;
  }): Promise<AgentTls> {
    const files = agentFiles(opts.dataDir);
    const controllers = typeof opts.controller === 'string' ? [opts.controller] : opts.controller;
    const first = controllers[0]!;
    const token = opts.joinToken ? parseJoinToken(opts.joinToken) : undefined;
    const kept = await readHeld(files);
    const keptProblem = kept && problemOf(kept, token?.caPin);
    if (kept && !keptProblem) return new AgentTls(kept, files, first, opts.log);
    if (!token)
      throw new YardError(
        'UNAUTHENTICATED',
        kept
          ? `this agent's certificate ${keptProblem}: join it again with the join token (--token-file FILE or $YARD_JOIN_TOKEN; \`yard token\` on the controller host prints it)`
          : 'this agent has not joined a controller yet: give it the join token with --token-file FILE or $YARD_JOIN_TOKEN (`yard token` on the controller host prints it)',
      );
    if (keptProblem) opts.log.info(`joining again: the kept certificate ${keptProblem}`);
    const { held, controller } = await join({ ...opts, controllers, token });
    await writeHeld(files, held);
    opts.log.info(`joined controller ${controller}: certificate for server ${opts.serverId} saved in ${files.cert}`);
    return new AgentTls(held, files, first, opts.log);
  }

  /** Credentials for a new channel to the controller: its CA, this agent's key and certificate. */
  channel(): ChannelCredentials {
    return credentials.createSsl(
      Buffer.from(this.held.caPem),
      Buffer.from(this.held.keyPem),
      Buffer.from(this.held.certPem),
    );
  }

  /** The CA, key and certificate as PEM: what this agent's peer transfer server and client present. */
  pems(): { caPem: string; keyPem: string; certPem: string } {
    return { ...this.held };
  }

  /** When the certificate stops working (ms). */
  get notAfterMs(): number {
    return new Date(new X509Certificate(this.held.certPem).validTo).getTime();
  }

  /**
   * Asks `controller` (default: the first of the list) for a new certificate (same key) once a
   * third of its life is left; false when not due.
   */
  async renewIfDue(nowMs = Date.now(), controller = this.controller): Promise<boolean> {
    const cert = new X509Certificate(this.held.certPem);
    if (!renewalDue({ notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) }, nowMs)) return false;
    const certificateRequest = await keyRequest(await importKeyPair(this.held.keyPem));
    const client = new AgentGatewayClient(controller, this.channel(), CLIENT_OPTIONS);
    try {
      const res = await new Promise<{ certificate: string }>((resolve, reject) =>
        client.renewCertificate(
          { certificateRequest },
          new Metadata(),
          { deadline: Date.now() + CALL_TIMEOUT_MS },
          (err, r) => (err ? reject(err) : resolve(r)),
        ),
      );
      this.held = { ...this.held, certPem: res.certificate };
    } finally {
      client.close();
    }
    await writeHeld(this.files, this.held);
    this.version++;
    this.log.info(`certificate renewed, valid until ${new Date(this.notAfterMs).toISOString()}`);
    return true;
  }
}

async function readHeld(files: ReturnType<typeof agentFiles>): Promise<Held | undefined> {
  const read = (file: string) =>
    readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new YardError('IDENTITY_CORRUPT', `cannot read ${file}: ${errorMessage(err)}`, { file });
    });
  const [caPem, keyPem, certPem] = await Promise.all([read(files.caCert), read(files.key), read(files.cert)]);
  // An agent key from before TLS (a bare secret) is not a PEM key: such an agent joins afresh.
  if (!caPem || !keyPem?.includes('PRIVATE KEY') || !certPem) return undefined;
  return { caPem, keyPem, certPem };
}

/** Why the kept certificate cannot be used (undefined: it can). */
function problemOf(held: Held, pin: string | undefined, nowMs = Date.now()): string | undefined {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(held.certPem);
    ca = new X509Certificate(held.caPem);
  } catch (err) {
    return `cannot be read (${errorMessage(err)})`;
  }
  if (pin && caFingerprint(held.caPem) !== pin)
    return `is from another controller's CA than the join token pins (${pin.slice(0, 19)}…)`;
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return 'was not issued by the CA kept beside it';
  const notAfter = new Date(cert.validTo).getTime();
  if (notAfter <= nowMs) return `expired at ${new Date(notAfter).toISOString()}`;
  return undefined;
}

async function writeHeld(files: ReturnType<typeof agentFiles>, held: Held): Promise<void> {
  // Each file whole (write aside, rename); the key first, so a certificate never names a key that is not there.
  for (const [file, text] of [
    [files.key, held.keyPem],
    [files.caCert, held.caPem],
    [files.cert, held.certPem],
  ] as const) {
    await writeFile(`${file}.tmp`, text, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
}

/**
 * Joining: the controller's CA is read from its TLS handshake and checked against the token's
 * pin before anything is sent; only then does the Join call carry the secret and a request for
 * a key made here. A controller that cannot be reached is tried again (bounded), the next of the
 * list first; a refusal is final.
 */
async function join(opts: {
  controllers: readonly string[];
  token: { secret: string; caPin: string };
  serverId: string;
  hostname: string;
  name: string;
  log: Logger;
}): Promise<{ held: Held; controller: string }> {
  const rotation = new Rotation(opts.controllers);
  const giveUpAt = Date.now() + JOIN_PATIENCE_MS;
  for (;;) {
    const controller = rotation.current;
    try {
      return { held: await joinOnce({ ...opts, controller }), controller };
    } catch (err) {
      if (err instanceof YardError || Date.now() > giveUpAt) throw err;
      const { address, waitMs: wait } = rotation.failed();
      const where = address === controller ? '' : ` with ${address}`;
      opts.log.warn(
        `cannot join controller ${controller} yet: ${errorMessage(err)}; trying again${where} in ${(wait / 1000).toFixed(1)}s`,
      );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

async function joinOnce(opts: Omit<Parameters<typeof join>[0], 'controllers'> & { controller: string }): Promise<Held> {
  const caPem = await presentedCa(opts.controller);
  if (!pinMatches(opts.token, caPem))
    throw new YardError(
      'CA_MISMATCH',
      `the controller at ${opts.controller} presented CA ${caFingerprint(caPem)}, not the one the join token pins (${opts.token.caPin}): the token is for another controller, or something between is answering in its place. Nothing was sent; check the address and the token (\`yard token\` on the controller host)`,
      { presented: caFingerprint(caPem), pinned: opts.token.caPin },
    );
  const keys = await newKeyPair();
  const keyPem = await privateKeyPem(keys.privateKey);
  const client = new AgentGatewayClient(opts.controller, credentials.createSsl(Buffer.from(caPem)), CLIENT_OPTIONS);
  try {
    const res = await new Promise<{ certificate: string; caCertificate: string }>((resolve, reject) => {
      void keyRequest(keys).then((certificateRequest) =>
        client.join(
          {
            joinSecret: opts.token.secret,
            serverId: opts.serverId,
            certificateRequest,
            hostname: opts.hostname,
            name: opts.name,
          },
          new Metadata(),
          { deadline: Date.now() + CALL_TIMEOUT_MS },
          (err, r) => (err ? reject(refusal(err)) : resolve(r)),
        ),
      );
    });
    return { caPem, keyPem, certPem: res.certificate };
  } finally {
    client.close();
  }
}

/** The controller's own refusal as a YardError (final); a transport failure stays an Error (retried). */
function refusal(err: ServiceError): Error {
  const detail = errorDetailOf(err);
  if (detail) return new YardError(detail.code, detail.message, detail.details);
  return new Error(err.details || err.message);
}

/** The root of the certificate chain the controller presents in its TLS handshake (PEM). */
function presentedCa(controller: string): Promise<string> {
  const { host, port } = parseHostPort(controller, '--controller');
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      // Not trusted yet: what it presents is checked against the pin, and nothing is sent before that.
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
    });
    socket.setTimeout(CALL_TIMEOUT_MS, () => socket.destroy(new Error('the TLS handshake timed out')));
    socket.once('error', (err) => reject(new Error(`TLS handshake with ${controller} failed: ${errorMessage(err)}`)));
    socket.once('secureConnect', () => {
      let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      while (cert?.issuerCertificate && cert.issuerCertificate !== cert && cert.issuerCertificate.raw)
        cert = cert.issuerCertificate;
      socket.destroy();
      if (!cert?.raw) {
        reject(new YardError('CA_MISMATCH', `the controller at ${controller} presented no certificate`));
        return;
      }
      resolve(new X509Certificate(cert.raw).toString());
    });
  });
}
