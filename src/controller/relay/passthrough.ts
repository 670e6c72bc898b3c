import {
  Metadata,
  status,
  type CallOptions,
  type UntypedHandleCall,
  type Client,
  type ClientReadableStream,
  type ClientWritableStream,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceError,
  type StatusObject,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { EventEmitter } from 'node:events';
import { RELAYED_CERTIFICATE, RELAYED_LOCAL, RELAYED_PEER } from '../grpc/auth.js';

/** A method as the generated service definitions describe it. */
export interface MethodShape {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

/** Where relayed calls go: the leader's channel while one leads, and the calls to end when it changes. */
export interface Upstream {
  /** The channel to the leader; undefined while no controller leads. */
  client(): Client | undefined;
  /** Keeps `cancel` until the call ends (returned function); the upstream calls it when the leader changes. */
  track(cancel: () => void): () => void;
  /** Calls come in on the follower's owner-only Unix socket: the leader is told so. */
  local?: boolean;
  /** A stream began: `opened` is told once the leader accepted it, and returns what to do when it ends. */
  opened?(path: string, certificate: Buffer | undefined): (() => void) | undefined;
}

type AnyCall =
  | ServerUnaryCall<Buffer, Buffer>
  | ServerReadableStream<Buffer, Buffer>
  | ServerWritableStream<Buffer, Buffer>
  | ServerDuplexStream<Buffer, Buffer>;

/** Bytes in, bytes out: a relay never decodes what it passes on. */
export const asIs = (b: Buffer): Buffer => b;

/** Headers of the client's HTTP/2 request that are the transport's, not the call's. */
const TRANSPORT_HEADERS = new Set([
  'content-type',
  'te',
  'user-agent',
  'host',
  'accept-encoding',
  'grpc-accept-encoding',
  'grpc-encoding',
  'grpc-timeout',
]);

/** The call's metadata for the leader: the client's own, plus who the client proved to be here. */
function upstreamMetadata(call: AnyCall, local: boolean): Metadata {
  const md = new Metadata();
  for (const [key, values] of Object.entries(call.metadata.toJSON())) {
    if (key.startsWith(':') || TRANSPORT_HEADERS.has(key) || key.startsWith('x-yard-relayed-')) continue;
    for (const v of values) md.add(key, v);
  }
  const certificate = call.getAuthContext().sslPeerCertificate?.raw;
  if (certificate) md.set(RELAYED_CERTIFICATE, certificate);
  md.set(RELAYED_PEER, call.getPeer());
  if (local) md.set(RELAYED_LOCAL, '1');
  return md;
}

function callOptions(call: AnyCall): CallOptions {
  const deadline = call.getDeadline();
  return deadline === Infinity ? {} : { deadline };
}

/**
 * The handler that passes one method's calls to the leader and its answers back, message by
 * message with flow control, metadata and status as they come (our errors ride in trailers).
 */
export function relayHandler(method: MethodShape, upstream: Upstream): UntypedHandleCall {
  const { path } = method;
  return ((call: AnyCall, callback?: sendUnaryData<Buffer>) => {
    const client = upstream.client();
    if (!client) {
      const err = noLeader();
      if (callback) callback(err);
      else (call as ServerWritableStream<Buffer, Buffer>).emit('error', err);
      return;
    }
    const md = upstreamMetadata(call, upstream.local === true);
    const options = callOptions(call);
    let changed = false;
    let up: { cancel(): void };
    const untrack = upstream.track(() => {
      changed = true;
      up.cancel();
    });
    let closeSession: (() => void) | undefined;
    const done = () => {
      untrack();
      closeSession?.();
      closeSession = undefined;
    };
    const answer = (err: ServiceError | null, value?: Buffer) => {
      done();
      callback!(err && changed ? leaderChanged() : err, value);
    };
    if (!method.requestStream && !method.responseStream) {
      up = client.makeUnaryRequest(
        path,
        asIs,
        asIs,
        (call as ServerUnaryCall<Buffer, Buffer>).request,
        md,
        options,
        answer,
      );
    } else if (method.requestStream && !method.responseStream) {
      up = client.makeClientStreamRequest(path, asIs, asIs, md, options, answer);
      pipeUp(call as ServerReadableStream<Buffer, Buffer>, up as ClientWritableStream<Buffer>);
    } else if (!method.requestStream) {
      up = client.makeServerStreamRequest(
        path,
        asIs,
        asIs,
        (call as ServerWritableStream<Buffer, Buffer>).request,
        md,
        options,
      );
    } else {
      up = client.makeBidiStreamRequest(path, asIs, asIs, md, options);
      pipeUp(call as ServerDuplexStream<Buffer, Buffer>, up as unknown as ClientWritableStream<Buffer>);
    }
    const upstreamCall = up as ClientReadableStream<Buffer>;
    upstreamCall.on('metadata', (m: Metadata) => {
      (call as ServerWritableStream<Buffer, Buffer>).sendMetadata(m);
      closeSession = upstream.opened?.(path, call.getAuthContext().sslPeerCertificate?.raw);
    });
    const events = call as unknown as EventEmitter;
    events.on('cancelled', () => upstreamCall.cancel());
    events.on('error', () => upstreamCall.cancel());
    if (method.responseStream)
      pipeDown(upstreamCall, call as ServerWritableStream<Buffer, Buffer>, () => changed, done);
  }) as unknown as UntypedHandleCall;
}

/** The client's messages to the leader; the client's half-close becomes the relay's. */
function pipeUp(down: ServerReadableStream<Buffer, Buffer>, up: ClientWritableStream<Buffer>): void {
  up.on('error', () => undefined);
  down.on('data', (chunk: Buffer) => {
    if (!up.write(chunk)) {
      down.pause();
      up.once('drain', () => down.resume());
    }
  });
  down.on('end', () => up.end());
}

/** The leader's messages to the client, then its status (after the last message). */
function pipeDown(
  up: ClientReadableStream<Buffer>,
  down: ServerWritableStream<Buffer, Buffer>,
  changed: () => boolean,
  done: () => void,
): void {
  let ended = false;
  let status_: StatusObject | undefined;
  const finish = () => {
    if (!status_ || !ended) return;
    done();
    if (status_.code === status.OK) down.end(status_.metadata);
    else down.emit('error', changed() ? leaderChanged() : { ...status_, name: 'Error', message: status_.details });
  };
  up.on('error', () => undefined);
  up.on('data', (chunk: Buffer) => {
    if (!down.write(chunk)) {
      up.pause();
      down.once('drain', () => up.resume());
    }
  });
  up.on('end', () => {
    ended = true;
    finish();
  });
  up.on('status', (s: StatusObject) => {
    status_ = s;
    // An error status may come with messages still unread: they are of no use to the client.
    if (s.code !== status.OK) ended = true;
    finish();
  });
}

function unavailable(details: string): ServiceError {
  return Object.assign(new Error(details), { code: status.UNAVAILABLE, details, metadata: new Metadata() });
}

function leaderChanged(): ServiceError {
  return unavailable('the leading controller changed during this call; try it again');
}

function noLeader(): ServiceError {
  return unavailable(
    'this controller is a follower and no controller leads now (an election is under way); try again in a few seconds or dial another controller',
  );
}
