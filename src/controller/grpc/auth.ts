import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toServiceError } from '../../core/rpc/errors.js';
import { YardError } from '../../core/errors.js';
import { tokensEqual } from '../token.js';

/**
 * Who may use the Control API on one listener, and what the audit trail calls them. The
 * owner-only Unix socket trusts whoever reaches it (as Docker's socket does); every TCP
 * listener, loopback included, wants the operator token.
 */
export interface ControlAuth {
  /** Throws UNAUTHENTICATED unless the caller may use Control. */
  check(metadata: Metadata): void;
  /** Who asked, for the audit trail. */
  who(call: { metadata: Metadata; getPeer(): string }): string;
}

/** The controller's Unix socket: only its owner (and root) can connect, so reaching it is the credential. */
export const localAuth: ControlAuth = {
  check() {},
  who: (call) => requestedBy(call.metadata, 'local'),
};

/** TCP listeners: `authorization: Bearer <operator token>`. The join token admits agents, never operators. */
export function operatorTokenAuth(tokens: { operator: string; join: string }): ControlAuth {
  return {
    check(metadata) {
      const given = bearerOf(metadata);
      if (!given) throw new YardError('UNAUTHENTICATED', 'this controller needs the operator token over TCP: set $YARD_TOKEN or pass --token-file FILE (`yard token --operator` on the controller host prints it); on that host, the CLI needs none');
      if (tokensEqual(given, tokens.operator)) return;
      if (tokensEqual(given, tokens.join)) throw new YardError('PERMISSION_DENIED', 'that is the join token: it admits agents only; Control calls need the operator token (`yard token --operator` on the controller host)');
      throw new YardError('UNAUTHENTICATED', 'wrong operator token: use the one `yard token --operator` prints on the controller host');
    },
    // The token is the credential; the user name the client sends is only what it says of itself.
    who: (call) => {
      const user = claimedUser(call.metadata);
      return user ? `${user} (token:operator)` : 'token:operator';
    },
  };
}

/** The secret in `authorization: Bearer …`, or '' when there is none. */
export function bearerOf(metadata: Metadata): string {
  const header = String(metadata.get('authorization')[0] ?? '');
  return header.startsWith('Bearer ') ? header.slice(7).trim() : '';
}

/** Wraps a unary handler: auth first, then the handler (sync or async); errors become structured statuses. */
export function unary<Req, Res>(auth: ControlAuth, handle: (req: Req, metadata: Metadata, call: ServerUnaryCall<Req, Res>) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    Promise.resolve()
      .then(() => {
        auth.check(call.metadata);
        return handle(call.request, call.metadata, call);
      })
      .then((res) => callback(null, res), (err: unknown) => callback(toServiceError(err)));
  };
}

function claimedUser(metadata: Metadata): string {
  // Printed in audit lines and on terminals: no control characters.
  return String(metadata.get('x-yard-user')[0] ?? '').slice(0, 64).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Who asked: the operator the CLI says it runs as (x-yard-user), or `fallback`. */
export function requestedBy(metadata: Metadata, fallback = 'unknown'): string {
  return claimedUser(metadata) || fallback;
}
