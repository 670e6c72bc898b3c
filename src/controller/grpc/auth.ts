import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toServiceError } from '../../core/rpc/errors.js';
import { YardError } from '../../core/errors.js';
import { tokensEqual } from '../token.js';

/** Control calls carry the token as `authorization: Bearer <token>` when the listener needs one. */
export function checkBearer(metadata: Metadata, token: string | undefined): void {
  if (token === undefined) return;
  const header = String(metadata.get('authorization')[0] ?? '');
  const given = header.startsWith('Bearer ') ? header.slice(7) : '';
  if (!given) throw new YardError('UNAUTHENTICATED', 'this controller listens beyond loopback and needs a token: pass --token (see `yard token` on the controller host)');
  if (!tokensEqual(given, token)) throw new YardError('UNAUTHENTICATED', 'wrong token: pass the token `yard token` prints on the controller host');
}

/** Wraps a unary handler: auth first, then the handler (sync or async); errors become structured statuses. */
export function unary<Req, Res>(token: string | undefined, handle: (req: Req, metadata: Metadata, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    Promise.resolve()
      .then(() => {
        checkBearer(call.metadata, token);
        return handle(call.request, call.metadata, call);
      })
      .then((res) => callback(null, res), (err: unknown) => callback(toServiceError(err)));
  };
}

/** Who asked: the operator the CLI says it runs as (x-yard-user), or where the call came from. */
export function requestedBy(metadata: Metadata, peer = 'unknown'): string {
  const user = String(metadata.get('x-yard-user')[0] ?? '').slice(0, 64);
  return user || peer;
}

/**
 * The operator an audit entry names: the user the client says it runs as; without one, the
 * token it had to present (there is one, "default"), else where the call came from.
 */
export function operatorOf(call: { metadata: Metadata; getPeer(): string }, tokenRequired: boolean): string {
  return requestedBy(call.metadata, tokenRequired ? 'token:default' : call.getPeer());
}
