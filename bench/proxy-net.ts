// Socket helpers of the proxy benchmark's client: connect with a limit, read exact replies,
// and a time limit for a batch of work.
import { connect, type Socket } from 'node:net';
import type { HostPort } from '../src/core/address.js';

const CONNECT_TIMEOUT_MS = 5000;

/** Bytes that arrive on a socket, read in exact amounts; rejects once the socket fails or closes. */
export class Replies {
  private readonly chunks: Buffer[] = [];
  private have = 0;
  private waiting?: { want: number; resolve: (b: Buffer) => void; reject: (e: Error) => void };
  private failed?: Error;

  constructor(sock: Socket, what: string) {
    sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.have += d.length;
      this.settle();
    });
    const fail = (why: string) => {
      this.failed ??= new Error(`${what}: ${why}`);
      this.settle();
    };
    sock.on('error', (err) => fail(err.message));
    sock.on('close', () => fail('connection closed before the reply'));
  }

  read(want: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.waiting = { want, resolve, reject };
      this.settle();
    });
  }

  private settle(): void {
    const w = this.waiting;
    if (!w) return;
    if (this.have >= w.want) {
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks.length = 0;
      this.have -= w.want;
      if (this.have) this.chunks.push(all.subarray(w.want));
      this.waiting = undefined;
      w.resolve(all.subarray(0, w.want));
    } else if (this.failed) {
      this.waiting = undefined;
      w.reject(this.failed);
    }
  }
}

/** A connected socket (Nagle off), or an error saying where it could not connect. */
export function open(to: HostPort): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: to.host, port: to.port, noDelay: true });
    const timer = setTimeout(() => fail(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    function fail(err: Error) {
      clearTimeout(timer);
      sock.destroy();
      reject(new Error(`connect to ${to.host}:${to.port}: ${err.message}`));
    }
    sock.once('error', fail);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeListener('error', fail);
      resolve(sock);
    });
  });
}

/** Runs `body`; past `limitMs` calls `abort` (which must make `body` settle, e.g. by destroying its sockets) and fails. */
export async function limited<T>(what: string, limitMs: number, abort: () => void, body: () => Promise<T>): Promise<T> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    abort();
  }, limitMs);
  try {
    return await body();
  } catch (err) {
    throw expired ? new Error(`${what} took over ${limitMs / 1000} s`) : err;
  } finally {
    clearTimeout(timer);
  }
}
