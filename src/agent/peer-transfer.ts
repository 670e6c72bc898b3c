// Direct checkpoint transfers between agents (issue 13 groundwork): the source serves a saved
// checkpoint to the one target a ticket names, over TLS 1.3 where both ends present their
// agent certificates (issued by the controller's CA) and each checks the other's server id.
// One JSON line each way, then the bytes: from an offset, so a dropped transfer resumes.
import { X509Certificate } from 'node:crypto';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import { parseHostPort } from '../core/address.js';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { agentUri } from '../core/pki/identity.js';
import type { Manifest } from './precopy/manifest.js';
import { digestsEqual, TICKET_TTL_MS, ticketDigest, type TransferTicket } from '../core/transfer-ticket.js';

/** The agent's own TLS identity: the controller's CA, its key and certificate (PEM). */
export interface PeerTls {
  caPem: string;
  keyPem: string;
  certPem: string;
}

/** A checkpoint the source offers to one target: its ticket, and its bytes from any offset. */
export interface Offer {
  ticket: TransferTicket;
  /** -1 (and sha256 '') while the archive is still being packed: the target asks again later. */
  size: number;
  sha256: string;
  open(offset: number): Readable;
  /**
   * Pre-copy: the workload's state dir itself, served as a manifest and then the chunks the
   * target asks for (precopy/manifest.ts), round after round under the same ticket.
   */
  state?: {
    manifest(): Promise<Manifest>;
    read(wanted: Array<[string, number]>): Readable;
  };
}

/** v1: the archive from an offset; v2: the state dir's manifest, then a line asking for chunks. */
type Request =
  | { v: 1; ticket: string; checkpoint: string; offset: number }
  | { v: 2; ticket: string; checkpoint: string };

interface ChunkRequest {
  chunks: Array<[string, number]>;
}

type Reply =
  | { ok: true; size: number; sha256: string }
  | { ok: true; manifestBytes: number }
  | { ok: false; code: string; message: string };

/** A request or reply line is a few hundred bytes; this bounds what a peer can make us buffer. */
const MAX_LINE = 4096;
/** A chunk request names each chunk ([path, index]): 100,000 entries of long paths at most. */
const MAX_CHUNK_REQUEST = 64 * 1024 * 1024;
/** A manifest of MAX_ENTRIES files with their chunk names. */
const MAX_MANIFEST = 256 * 1024 * 1024;
const HEADER_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
/** A transfer that moves no byte this long is cut: the target resumes it or gives up. */
const IDLE_TIMEOUT_MS = 30_000;

/** The server id a certificate speaks for (its `yard://server/<id>` SAN URI), or undefined. */
function agentIdOf(der: Buffer | undefined): string | undefined {
  if (!der) return undefined;
  const prefix = agentUri('');
  const uri = (new X509Certificate(der).subjectAltName ?? '').split(', ').find((n) => n.startsWith(`URI:${prefix}`));
  return uri ? decodeURIComponent(uri.slice(4 + prefix.length)) : undefined;
}

/** Reads one newline-terminated JSON line from a socket; what follows it is pushed back. */
function readLine<T>(socket: TLSSocket, what: string, maxLine = MAX_LINE): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(
      () => fail(new Error(`no ${what} within ${HEADER_TIMEOUT_MS / 1000} s`)),
      HEADER_TIMEOUT_MS,
    );
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
    };
    const fail = (err: Error) => {
      done();
      reject(err);
    };
    const onEnd = () => fail(new Error(`the connection ended before the ${what}`));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > maxLine) fail(new Error(`the ${what} is longer than ${maxLine} bytes`));
        return;
      }
      done();
      socket.pause();
      const rest = buf.subarray(nl + 1);
      if (rest.length > 0) socket.unshift(rest);
      try {
        resolve(JSON.parse(buf.subarray(0, nl).toString('utf8')) as T);
      } catch {
        reject(new Error(`the ${what} is not JSON`));
      }
    };
    socket.on('data', onData);
    socket.once('error', fail);
    socket.once('end', onEnd);
    // A socket paused after an earlier line does not flow again by itself.
    socket.resume();
  });
}

/** The source's server: offers by ticket digest; each admits only its target, for its checkpoint. */
export class PeerTransferServer {
  private readonly offers = new Map<string, Offer>();
  private readonly sockets = new Set<TLSSocket>();
  private server?: Server;

  constructor(private readonly o: { tls: () => PeerTls; serverId: string; log: Logger; now?: () => number }) {}

  /** Listens on `address` (HOST:PORT, port 0 for any); resolves with the real one. */
  async listen(address: string): Promise<string> {
    const { host, port } = parseHostPort(address, '--transfer-listen');
    const t = this.o.tls();
    const server = createServer(
      {
        ca: t.caPem,
        key: t.keyPem,
        cert: t.certPem,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
      },
      (socket) => void this.serve(socket),
    );
    server.on('tlsClientError', () => undefined);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const bound = server.address();
    return typeof bound === 'object' && bound ? `${host}:${bound.port}` : address;
  }

  offer(o: Offer): void {
    this.offers.set(o.ticket.digest, o);
  }

  /** The move ended (committed, rolled back or failed): its ticket admits no one again. */
  withdraw(digest: string): void {
    this.offers.delete(digest);
  }

  /** Stops listening and cuts transfers in flight (their targets resume, or the move fails over). */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  private async serve(socket: TLSSocket): Promise<void> {
    socket.on('error', () => undefined);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const peer = agentIdOf(socket.getPeerX509Certificate()?.raw);
    let req: Request;
    try {
      req = await readLine<Request>(socket, 'transfer request');
    } catch (err) {
      this.o.log.warn(`refused a checkpoint transfer from ${peer ?? 'an unknown peer'}: ${errorMessage(err)}`);
      socket.destroy();
      return;
    }
    let offer: Offer;
    try {
      offer = this.admit(req, peer);
    } catch (err) {
      const e = err instanceof YardError ? err : new YardError('PERMISSION_DENIED', errorMessage(err));
      this.o.log.warn(`refused a checkpoint transfer to ${peer ?? 'an unknown peer'}: ${e.message}`);
      socket.end(`${JSON.stringify({ ok: false, code: e.code, message: e.message } satisfies Reply)}\n`);
      return;
    }
    if (req.v === 2) {
      await this.serveState(socket, offer, peer);
      return;
    }
    socket.write(`${JSON.stringify({ ok: true, size: offer.size, sha256: offer.sha256 } satisfies Reply)}\n`);
    const body = offer.open(req.offset);
    body.on('error', () => socket.destroy());
    body.pipe(socket);
  }

  /** Pre-copy: the manifest (length first), then the chunks the next line asks for. */
  private async serveState(socket: TLSSocket, offer: Offer, peer: string | undefined): Promise<void> {
    const fail = (err: unknown) => {
      const e = err instanceof YardError ? err : new YardError('INTERNAL', errorMessage(err));
      this.o.log.warn(`pre-copy of the state of ${offer.ticket.checkpointId} to ${peer} failed: ${e.message}`);
      socket.destroy();
    };
    const state = offer.state;
    let manifest: Buffer;
    try {
      if (!state) throw new YardError('FAILED_PRECONDITION', 'this offer is an archive, not a state dir');
      manifest = Buffer.from(JSON.stringify(await state.manifest()));
    } catch (err) {
      // Said to the target (its round fails with the reason), not only logged here.
      const e = err instanceof YardError ? err : new YardError('INTERNAL', errorMessage(err));
      this.o.log.warn(`cannot pre-copy the state of ${offer.ticket.checkpointId}: ${e.message}`);
      socket.end(`${JSON.stringify({ ok: false, code: e.code, message: e.message } satisfies Reply)}\n`);
      return;
    }
    try {
      socket.write(`${JSON.stringify({ ok: true, manifestBytes: manifest.length } satisfies Reply)}\n`);
      socket.write(manifest);
      const req = await readLine<ChunkRequest>(socket, 'chunk request', MAX_CHUNK_REQUEST);
      if (!Array.isArray(req?.chunks)) throw new YardError('INVALID_ARGUMENT', 'the chunk request names no chunks');
      const body = state.read(req.chunks);
      body.on('error', fail);
      body.pipe(socket);
    } catch (err) {
      fail(err);
    }
  }

  private admit(req: Request, peer: string | undefined): Offer {
    if (!peer) throw new YardError('UNAUTHENTICATED', 'its certificate names no agent');
    if ((req?.v !== 1 && req?.v !== 2) || typeof req.ticket !== 'string' || typeof req.checkpoint !== 'string')
      throw new YardError('INVALID_ARGUMENT', 'the transfer request is not one this agent understands');
    const digest = ticketDigest(req.ticket);
    const offer = [...this.offers.values()].find((o) => digestsEqual(o.ticket.digest, digest));
    if (!offer) throw new YardError('PERMISSION_DENIED', 'no such transfer ticket here: never issued, or withdrawn');
    const t = offer.ticket;
    if (t.expiresMs <= this.now()) {
      this.offers.delete(t.digest);
      throw new YardError('PERMISSION_DENIED', 'the transfer ticket expired');
    }
    if (t.checkpointId !== req.checkpoint || t.targetServerId !== peer)
      throw new YardError(
        'PERMISSION_DENIED',
        `the ticket is for checkpoint ${t.checkpointId} to server ${t.targetServerId}, not ${req.checkpoint} to ${peer}`,
      );
    if (req.v === 1 && offer.state)
      throw new YardError(
        'FAILED_PRECONDITION',
        `checkpoint ${t.checkpointId} is offered as a state dir, not an archive`,
      );
    if (req.v === 2 && !offer.state)
      throw new YardError(
        'FAILED_PRECONDITION',
        `checkpoint ${t.checkpointId} is offered as an archive, not a state dir`,
      );
    if (
      req.v === 1 &&
      (!Number.isSafeInteger(req.offset) || req.offset < 0 || (offer.size >= 0 && req.offset > offer.size))
    )
      throw new YardError('INVALID_ARGUMENT', `offset ${req.offset} is outside the checkpoint (0–${offer.size})`);
    // Live while it is used: a dropped transfer may resume within the TTL of its last connection.
    t.expiresMs = Math.max(t.expiresMs, this.now() + TICKET_TTL_MS);
    return offer;
  }
}

/**
 * The target's side: connects to the source named by its server id (its certificate must say
 * so), presents the ticket, and returns the checkpoint's size, sha256 and its bytes from `offset`.
 */
export async function fetchFromPeer(o: {
  address: string;
  sourceServerId: string;
  tls: PeerTls;
  secret: string;
  checkpointId: string;
  offset: number;
}): Promise<{ size: number; sha256: string; body: Readable }> {
  const socket = await connectPeer(o);
  socket.write(
    `${JSON.stringify({ v: 1, ticket: o.secret, checkpoint: o.checkpointId, offset: o.offset } satisfies Request)}\n`,
  );
  const reply = await replyOf(socket, o);
  if (!('size' in reply)) {
    socket.destroy();
    throw new YardError('INTERNAL', `server ${o.sourceServerId} answered an archive request with a manifest`);
  }
  return { size: reply.size, sha256: reply.sha256, body: socket };
}

/**
 * Pre-copy, the target's side of one round: the source's manifest of the state dir now, and a
 * way to ask for the chunks that differ (framed by manifest.ts read()) on the same connection.
 * The manifest is parsed, not trusted: the caller checks it (StagedState.check).
 */
export async function fetchStateFromPeer(o: {
  address: string;
  sourceServerId: string;
  tls: PeerTls;
  secret: string;
  checkpointId: string;
}): Promise<{ manifest: Manifest; chunks(wanted: Array<[string, number]>): Readable; close(): void }> {
  const socket = await connectPeer(o);
  socket.write(`${JSON.stringify({ v: 2, ticket: o.secret, checkpoint: o.checkpointId } satisfies Request)}\n`);
  const reply = await replyOf(socket, o);
  const bytes = 'manifestBytes' in reply ? reply.manifestBytes : -1;
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_MANIFEST) {
    socket.destroy();
    throw new YardError('BAD_ARCHIVE', `server ${o.sourceServerId} announced a manifest of ${bytes} bytes`);
  }
  const raw = await readBytes(socket, bytes).catch((err: unknown) => {
    socket.destroy();
    throw new YardError('UNAVAILABLE', `the manifest from server ${o.sourceServerId} broke off: ${errorMessage(err)}`);
  });
  let manifest: Manifest;
  try {
    manifest = JSON.parse(raw.toString('utf8')) as Manifest;
  } catch {
    socket.destroy();
    throw new YardError('BAD_ARCHIVE', `the manifest from server ${o.sourceServerId} is not JSON`);
  }
  return {
    manifest,
    chunks(wanted) {
      socket.write(`${JSON.stringify({ chunks: wanted } satisfies ChunkRequest)}\n`);
      return socket;
    },
    close: () => socket.destroy(),
  };
}

/** Exactly `n` bytes off a paused socket; what follows is pushed back. */
function readBytes(socket: TLSSocket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = [];
    let held = 0;
    const done = () => {
      socket.off('data', onData);
      socket.off('error', reject);
      socket.off('end', onEnd);
    };
    const onEnd = () => {
      done();
      reject(new Error(`the connection ended after ${held} of ${n} bytes`));
    };
    const onData = (chunk: Buffer) => {
      pieces.push(chunk);
      held += chunk.length;
      if (held < n) return;
      done();
      socket.pause();
      const all = Buffer.concat(pieces, held);
      if (all.length > n) socket.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    if (n === 0) {
      resolve(Buffer.alloc(0));
      return;
    }
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', onEnd);
    socket.resume();
  });
}

/** A TLS connection to the source named by its server id (its certificate must say so). */
async function connectPeer(o: { address: string; sourceServerId: string; tls: PeerTls }): Promise<TLSSocket> {
  const { host, port } = parseHostPort(o.address, 'transfer address');
  const socket = connect({
    host,
    port,
    ca: o.tls.caPem,
    key: o.tls.keyPem,
    cert: o.tls.certPem,
    minVersion: 'TLSv1.3',
    // Who serves is checked by the server id in its certificate, not by the address it was found at.
    checkServerIdentity: (_host, cert) => {
      const id = agentIdOf(cert.raw);
      return id === o.sourceServerId
        ? undefined
        : new Error(`the agent at ${o.address} is server ${id ?? '(none)'}, not ${o.sourceServerId}`);
    },
  });
  await new Promise<void>((resolve, reject) => {
    // A firewall that drops the SYNs would hold a connect for minutes: the relay is the answer sooner.
    const timer = setTimeout(
      () => socket.destroy(new Error(`no TLS connection within ${CONNECT_TIMEOUT_MS / 1000} s`)),
      CONNECT_TIMEOUT_MS,
    );
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  }).catch((err: unknown) => {
    socket.destroy();
    throw new YardError('UNAVAILABLE', `cannot reach server ${o.sourceServerId} at ${o.address}: ${errorMessage(err)}`);
  });
  socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000} s`)));
  return socket;
}

/** The source's answer line: accepted (what it serves), or refused with its reason. */
async function replyOf(socket: TLSSocket, o: { sourceServerId: string }): Promise<Exclude<Reply, { ok: false }>> {
  const reply = await readLine<Reply>(socket, 'transfer reply').catch((err: unknown) => {
    socket.destroy();
    throw new YardError(
      'UNAVAILABLE',
      `server ${o.sourceServerId} did not answer the transfer request: ${errorMessage(err)}`,
    );
  });
  if (!reply.ok) {
    socket.destroy();
    throw new YardError(reply.code, `server ${o.sourceServerId} refused the transfer: ${reply.message}`);
  }
  return reply;
}
