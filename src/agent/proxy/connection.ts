// One client connection through the proxy: dialing its backend, the two-way pipe, its end.
import { connect, type Socket } from 'node:net';
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
  if (sock.writable) sock.end();
  if (sock.writableFinished) sock.destroy();
  else sock.once('finish', sock.destroy);
}

export class Connection {
  /** Endpoints dialed in this round, so a retry goes elsewhere. */
  readonly tried: Dialable[] = [];
  /** When it first waited for a backend (0: never), and when its current wait began. */
  heldSince = 0;
  heldAt = 0;
  /** In its route's held queue now. */
  queued = false;
  private endpoint?: Dialable;
  private backend?: Socket;
  private piped = false;

  constructor(
    readonly client: Socket,
    private readonly owner: ConnectionOwner,
  ) {
    client.on('error', ignore);
    client.once('close', this.onClientClose);
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
    backend.setTimeout(timeoutMs);
    backend.once('timeout', this.onDialTimeout);
    backend.once('connect', this.onConnect);
    backend.on('error', this.onBackendError);
    backend.once('close', this.onBackendClose);
  }

  destroy(): void {
    this.client.destroy();
    this.backend?.destroy();
  }

  private readonly onConnect = (): void => {
    const backend = this.backend!;
    backend.setTimeout(0);
    backend.removeListener('timeout', this.onDialTimeout);
    this.piped = true;
    this.endpoint!.connected();
    // The client was accepted paused: pipe() starts reading it now, backpressure both ways.
    this.client.pipe(backend);
    backend.pipe(this.client);
  };

  private readonly onDialTimeout = (): void => {
    this.failDial('connect timed out');
  };

  private readonly onBackendError = (err: Error): void => {
    // Once piped, the 'close' that follows an error ends the client too.
    if (!this.piped) this.failDial(connectFailure(err));
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
    backend.removeListener('timeout', this.onDialTimeout);
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
    if (this.backend && !this.piped) this.dropDial();
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
