import { ServerInterceptingCall, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { YardError } from '../../core/errors.js';
import { toServiceError } from '../../core/rpc/errors.js';
import type { Caller } from '../service/caller.js';
import { tokensEqual } from '../token.js';

/**
 * Who may use the Control API on one listener, and who they are. The owner-only Unix socket
 * trusts whoever reaches it (as Docker's socket does); every TCP listener, loopback included,
 * wants the operator token.
 */
export interface ControlAuth {
  /** The caller of a Control call; throws UNAUTHENTICATED (or PERMISSION_DENIED) when there is none. */
  caller(metadata: Metadata): Caller;
}

/** The controller's Unix socket: only its owner (and root) can connect, so reaching it is the credential. */
export const localAuth: ControlAuth = {
  caller: (metadata) => ({ name: claimedUser(metadata) || 'local', via: 'unix-socket', role: 'admin' }),
};

/** TCP listeners: `authorization: Bearer <operator token>`. The join token admits agents, never operators. */
export function operatorTokenAuth(tokens: { operator: string; join: string }): ControlAuth {
  return {
    caller(metadata) {
      const given = bearerOf(metadata);
      if (!given)
        throw new YardError(
          'UNAUTHENTICATED',
          'this controller needs the operator token over TCP: set $YARD_TOKEN or pass --token-file FILE (`yard token --operator` on the controller host prints it); on that host, the CLI needs none',
        );
      if (tokensEqual(given, tokens.join))
        throw new YardError(
          'PERMISSION_DENIED',
          'that is the join token: it admits agents only; Control calls need the operator token (`yard token --operator` on the controller host)',
        );
      if (!tokensEqual(given, tokens.operator))
        throw new YardError(
          'UNAUTHENTICATED',
          'wrong operator token: use the one `yard token --operator` prints on the controller host',
        );
      // The token is the credential; the user name the client sends is only what it says of itself.
      const user = claimedUser(metadata);
      return { name: user ? `${user} (token:operator)` : 'token:operator', via: 'operator-token', role: 'admin' };
    },
  };
}

/**
 * The caller of each call, by the very metadata object grpc-js hands its handler. It lives only
 * in this process: nothing a client sends can put a caller here.
 */
const callers = new WeakMap<Metadata, Caller>();

/** Resolves the caller from a call's metadata and keeps it for the call's handler; throws when there is none. */
export function admit(auth: ControlAuth, metadata: Metadata): Caller {
  const caller = auth.caller(metadata);
  callers.set(metadata, caller);
  return caller;
}

/** The caller the interceptor resolved for this call. */
export function callerOf(call: { metadata: Metadata }): Caller {
  const caller = callers.get(call.metadata);
  if (!caller)
    throw new YardError(
      'UNAUTHENTICATED',
      'this Control call was not authenticated: its server was built without the authentication interceptor',
    );
  return caller;
}

const CONTROL_PATH = '/switchyard.v1.Control/';

/**
 * Authentication for one listener, in one place: every Control call's caller is resolved from
 * its metadata before its handler runs, and a call without one ends there with the reason.
 * Agents, health checks and reflection pass through (agents prove themselves in their session).
 */
export function authenticate(auth: ControlAuth): ServerInterceptor {
  return (method, call) => {
    if (!method.path.startsWith(CONTROL_PATH)) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata(metadata, pass) {
            try {
              admit(auth, metadata);
            } catch (err) {
              const { code, details, metadata: trailers } = toServiceError(err);
              call.sendStatus({ code: code!, details: details!, metadata: trailers ?? null });
              return;
            }
            pass(metadata);
          },
        }),
    });
  };
}

/** The secret in `authorization: Bearer …`, or '' when there is none. */
export function bearerOf(metadata: Metadata): string {
  const header = String(metadata.get('authorization')[0] ?? '');
  return header.startsWith('Bearer ') ? header.slice(7).trim() : '';
}

function claimedUser(metadata: Metadata): string {
  // Printed in audit lines and on terminals: no control characters.
  return String(metadata.get('x-yard-user')[0] ?? '')
    .slice(0, 64)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
