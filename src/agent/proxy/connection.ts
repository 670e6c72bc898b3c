// One client connection through the proxy: dialing its backend, forwarding both ways, its end.
import { connect, type Socket } from 'node:net';
import type { DialDeadlines } from './dial-deadlines.js';
import { connectFailure } from './probe.js';

/** The endpoint side of a connection: where to dial and who counts it. */
export interface Dialable {
  readonly host: string;
  readonly port: number;
  attach(conn: Connection): void;
  connected(): void;
  detach(conn: Connection): void;
  noteConnectError(reason: string): void;
}

/** The route side: what happens when a dial fails or the client goes. */
export interface ConnectionOwner {
  /** Dialing failed (the endpoint has counted it): try another, or give up. */
  dialFailed(conn: Connection): void;
  clientClosed(conn: Connection): void;
}

const ignore = (): void => undefined;

/**
 * Lets one side finish writing what it was given before it closes: a backend that answers and
 * closes must not cut its own answer short on the client.
 */
function closeAfterFlush(sock: Socket): void {
  if (sock.destroyed) return;
  if (sock.writable) sock.end();
  if (sock.writableFinished) sock.destroy();
  else sock.once('finish', sock.destroy);
}

/**
 * The other side has sent its last byte, so `to` will be written no more. When `to` had already
 * sent its own last byte and everything written to it is with the kernel, closing it sends the
 * FIN after those bytes: one shutdown() less than ending it first.
 */
function endWrites(to: Socket): void {
  if (to.readableEnded && to.writableLength === 0) to.destroy();
  else to.end();
}

/**
 * Forwards by hand rather than with pipe(), whose listeners, unpipe and cleanup are a sizeable
 * share of a short connection's cost: 'data' is written across, a write buffer that fills pauses
 * the side that feeds it until 'drain', and 'end' half-closes the other side.
 */
export class Connection {
  /** Endpoints dialed in this round, so a retry goes elsewhere. */
  readonly tried: Dialable[] = [];
  /** When it first waited for a backend (0: never), and when its current wait began. */
  heldSince = 0;
  heldAt = 0;
  /** In its route's held queue now. */
  queued = false;
  /** When the dial in progress gives up (Date.now() ms). */
  dialDeadline = 0;
  private endpoint?: Dialable;
  private backend?: Socket;
  private forwarding = false;

  constructor(
    readonly client: Socket,
    private readonly owner: ConnectionOwner,
    private readonly deadlines: DialDeadlines,
  ) {
    client.on('error', ignore);
    client.on('close', this.onClientClose);
  }

  /** Client → backend bytes so far. */
  get bytesIn(): number {
    return this.client.bytesRead;
  }

  /** Backend → client bytes so far. */
  get bytesOut(): number {
    // Undefined once Node has dropped the socket's write state.
    return this.client.bytesWritten ?? 0;
  }

  dial(endpoint: Dialable, timeoutMs: number): void {
    this.tried.push(endpoint);
    this.endpoint = endpoint;
    endpoint.attach(this);
    const backend = connect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true, noDelay: true });
    this.backend = backend;
    this.dialDeadline = Date.now() + timeoutMs;
    this.deadlines.add(this);
    backend.on('connect', this.onConnect);
    backend.on('error', this.onBackendError);
    backend.on('close', this.onBackendClose);
  }

  /** Its dial passed its deadline (see DialDeadlines). */
  dialTimedOut(): void {
    this.failDial('connect timed out');
  }

  destroy(): void {
    this.client.destroy();
    this.backend?.destroy();
  }

  private readonly onConnect = (): void => {
    const backend = this.backend!;
    const client = this.client;
    this.deadlines.delete(this);
    this.forwarding = true;
    this.endpoint!.connected();
    client.on('data', this.onClientData);
    client.on('end', this.onClientEnd);
    client.on('drain', this.onClientDrain);
    backend.on('data', this.onBackendData);
    backend.on('end', this.onBackendEnd);
    backend.on('drain', this.onBackendDrain);
    // The client was accepted paused: what it sent while we dialed flows now.
    client.resume();
  };

  private readonly onClientData = (chunk: Buffer): void => {
    if (!this.backend!.write(chunk)) this.client.pause();
  };

  private readonly onBackendData = (chunk: Buffer): void => {
    if (!this.client.write(chunk)) this.backend!.pause();
  };

  private readonly onBackendDrain = (): void => {
    this.client.resume();
  };

  private readonly onClientDrain = (): void => {
    this.backend?.resume();
  };

  private readonly onClientEnd = (): void => {
    endWrites(this.backend!);
  };

  private readonly onBackendEnd = (): void => {
    endWrites(this.client);
  };

  private readonly onBackendError = (err: Error): void => {
    // Once connected, the 'close' that follows an error ends the client too.
    if (!this.forwarding) this.failDial(connectFailure(err));
  };

  private failDial(reason: string): void {
    this.endpoint!.noteConnectError(reason);
    this.dropDial();
    if (!this.client.destroyed) this.owner.dialFailed(this);
  }

  /** Abandons a dial in progress: nothing it does later may touch this connection. */
  private dropDial(): void {
    const backend = this.backend!;
    backend.removeListener('close', this.onBackendClose);
    backend.removeListener('error', this.onBackendError);
    backend.removeListener('connect', this.onConnect);
    this.deadlines.delete(this);
    backend.on('error', ignore);
    backend.destroy();
    this.backend = undefined;
    const endpoint = this.endpoint!;
    this.endpoint = undefined;
    endpoint.detach(this);
  }

  private readonly onBackendClose = (hadError: boolean): void => {
    if (hadError) this.client.destroy();
    else closeAfterFlush(this.client);
  };

  private readonly onClientClose = (hadError: boolean): void => {
    if (this.backend && !this.forwarding) this.dropDial();
    else if (this.backend) {
      if (hadError) this.backend.destroy();
      else closeAfterFlush(this.backend);
    }
    const endpoint = this.endpoint;
    this.endpoint = undefined;
    endpoint?.detach(this);
    this.owner.clientClosed(this);
  };
}
