import {
  ServerInterceptingCall,
  status,
  type Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { YardError } from '../../core/errors.js';
import { toServiceError } from '../../core/rpc/errors.js';
import type { CertificateAuthority } from '../pki/certificate-authority.js';
import {
  checkCertificate,
  normalSerial,
  type CertificateCheck,
  type RevocationList,
} from '../pki/certificate-check.js';
import type { Caller } from '../service/caller.js';

/**
 * Who calls on one listener: an operator or a local user (Control), or an agent (AgentGateway).
 * `via`: the follower controller that relayed the call, when one did.
 */
export type Peer =
  | { kind: 'caller'; caller: Caller; serial?: string; via?: string }
  | { kind: 'agent'; serverId: string; serial: string; via?: string };

/**
 * What a follower controller adds to each call it relays to the leader: the client certificate
 * its TLS handshake verified (absent when the client showed none) and the client's address.
 * The leader reads them only from a peer whose own certificate is a controller's, so a client
 * that sets them itself gains nothing; a follower replaces any it was sent.
 */
export const RELAYED_CERTIFICATE = 'x-yard-relayed-cert-bin';
export const RELAYED_PEER = 'x-yard-relayed-peer';
/** Set by a follower on calls made to its own owner-only Unix socket: the local admin of its host. */
export const RELAYED_LOCAL = 'x-yard-relayed-local';

/**
 * Who may use one listener, and who they are. The owner-only Unix socket trusts whoever
 * reaches it (as Docker's socket does); the TCP listener speaks TLS and trusts client
 * certificates its CA issued: operators' credentials (with their role) and agents'.
 */
export interface ListenerAuth {
  /**
   * The peer of a call to `path`, from its metadata and the client certificate the TLS
   * handshake verified against the CA (DER; undefined when none). Throws UNAUTHENTICATED or
   * PERMISSION_DENIED, with what to do, when the call may not go ahead. Undefined: the call
   * needs no one (health checks, reflection, an agent's Join).
   */
  peer(path: string, metadata: Metadata, certificate: Buffer | undefined): Peer | undefined;
}

const CONTROL_PATH = '/switchyard.v1.Control/';
const GATEWAY_PATH = '/switchyard.v1.AgentGateway/';
/** The only AgentGateway call an agent makes before it has a certificate. */
const JOIN_PATH = `${GATEWAY_PATH}Join`;

/** The controller's Unix socket: only its owner (and root) can connect, so reaching it is the credential. */
export const localAuth: ListenerAuth = {
  peer(path, metadata) {
    if (path.startsWith(GATEWAY_PATH))
      throw new YardError('PERMISSION_DENIED', 'agents join over the TCP listener, not the control socket');
    if (!path.startsWith(CONTROL_PATH)) return undefined;
    return { kind: 'caller', caller: { name: claimedUser(metadata) || 'local', via: 'unix-socket', role: 'admin' } };
  },
};

/** Certificates whose signature and identity were checked, kept by their digest; past this, the cache starts over. */
const CHECKED_LIMIT = 10_000;

/**
 * The TCP listener: client certificates issued by the controller's CA, checked on every call.
 * Parsing and verifying a certificate costs about a millisecond, so what a certificate says is
 * kept by its digest; its dates and revocation are checked afresh on every call.
 */
export function certificateAuth(ca: CertificateAuthority, revocations: RevocationList): ListenerAuth {
  const checked = new Map<string, Extract<CertificateCheck, { ok: true }>>();
  const check = (certificate: Buffer): CertificateCheck => {
    const digest = createHash('sha256').update(certificate).digest('hex');
    const known = checked.get(digest);
    if (known && Date.now() < known.notAfterMs && !revocations.isRevoked(known.serial)) return known;
    const fresh = checkCertificate(certificate, ca, revocations);
    if (fresh.ok) {
      if (checked.size >= CHECKED_LIMIT) checked.clear();
      checked.set(digest, fresh);
    }
    return fresh;
  };
  return {
    peer(path, metadata, shown) {
      const control = path.startsWith(CONTROL_PATH);
      if (!control && !path.startsWith(GATEWAY_PATH)) return undefined;
      // A follower's call: the certificate that counts is the one its client showed it.
      const relay = shown ? check(shown) : undefined;
      const via = relay?.ok && relay.identity.kind === 'controller' ? relay.identity.controllerId : undefined;
      const certificate = via ? relayedCertificate(metadata) : shown;
      if (via) relayedFrom.set(metadata, String(metadata.get(RELAYED_PEER)[0] ?? via));
      if (path === JOIN_PATH) return undefined;
      // Controllers hold the fleet's CA key: one that says its own socket's owner calls is believed.
      if (via && control && metadata.get(RELAYED_LOCAL).length > 0) {
        const local = localAuth.peer(path, metadata, undefined);
        if (local?.kind === 'caller') return { ...local, via };
      }
      if (!certificate) {
        throw new YardError(
          'UNAUTHENTICATED',
          control
            ? "this controller wants a credential over TCP: pass --credential FILE or set $YARD_CREDENTIAL (an admin makes one with `yard access grant NAME --role viewer|operator|admin`); on the controller host, the CLI needs none. A credential that expired or is not this controller's is not accepted either"
            : 'this agent has no valid certificate for this controller: join it with the join token (`yard token` on the controller host prints it)',
        );
      }
      // Checked once: a direct client's certificate was checked above, to see whether it is a controller's.
      const result = via ? check(certificate) : relay!;
      if (!result.ok)
        throw new YardError(result.problem === 'revoked' ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED', result.message);
      const { identity, serial } = result;
      if (identity.kind === 'controller')
        throw new YardError(
          'PERMISSION_DENIED',
          `controller ${identity.controllerId}'s certificate relays its clients' calls; it makes none of its own`,
        );
      if (control) {
        if (identity.kind !== 'operator')
          throw new YardError(
            'PERMISSION_DENIED',
            `agent ${identity.serverId}'s certificate admits it to the agent gateway only; Control calls need an operator's credential`,
          );
        return {
          kind: 'caller',
          caller: { name: identity.name, via: 'certificate', role: identity.role },
          serial,
          ...(via ? { via } : {}),
        };
      }
      if (identity.kind !== 'agent')
        throw new YardError(
          'PERMISSION_DENIED',
          `operator ${identity.name}'s credential is for Control calls; the agent gateway admits agents' certificates only`,
        );
      return { kind: 'agent', serverId: identity.serverId, serial, ...(via ? { via } : {}) };
    },
  };
}

function relayedCertificate(metadata: Metadata): Buffer | undefined {
  const value = metadata.get(RELAYED_CERTIFICATE)[0];
  return Buffer.isBuffer(value) && value.length > 0 ? value : undefined;
}

/** The client's own address for calls a follower relayed (the follower's address is no use in logs). */
const relayedFrom = new WeakMap<Metadata, string>();

/** Where a call came from: its client, also when a follower relayed it. */
export function peerAddressOf(call: { metadata: Metadata; getPeer(): string }): string {
  return relayedFrom.get(call.metadata) ?? call.getPeer();
}

/**
 * The benchmark baseline's plaintext listener (see ControllerOptions.benchmarkPlaintext):
 * agent calls go through unchecked, Control calls are refused (the bench uses the socket).
 */
export const benchmarkPlaintextAuth: ListenerAuth = {
  peer(path) {
    if (path.startsWith(CONTROL_PATH))
      throw new YardError('PERMISSION_DENIED', 'a plaintext benchmark listener serves agents only');
    return undefined;
  },
};

/**
 * Who each call is, by the very metadata object grpc-js hands its handler. It lives only in
 * this process: nothing a client sends can put a peer here.
 */
const peers = new WeakMap<Metadata, Peer>();

/** Resolves a call's peer and keeps it for the call's handler (tests and in-process callers). */
export function admit(auth: ListenerAuth, path: string, metadata: Metadata, certificate?: Buffer): Peer | undefined {
  const peer = auth.peer(path, metadata, certificate);
  if (peer) peers.set(metadata, peer);
  return peer;
}

/** The caller the interceptor resolved for this Control call. */
export function callerOf(call: { metadata: Metadata }): Caller {
  const peer = peers.get(call.metadata);
  if (peer?.kind !== 'caller')
    throw new YardError(
      'UNAUTHENTICATED',
      'this Control call was not authenticated: its server was built without the authentication interceptor',
    );
  return peer.caller;
}

/** The follower that relayed this call, if one did. */
export function relayOf(call: { metadata: Metadata }): string | undefined {
  return peers.get(call.metadata)?.via;
}

/** The agent whose certificate the interceptor checked for this AgentGateway call. */
export function agentOf(call: { metadata: Metadata }): string {
  const peer = peers.get(call.metadata);
  if (peer?.kind !== 'agent')
    throw new YardError('UNAUTHENTICATED', 'this call is for joined agents, with their certificate');
  return peer.serverId;
}

/**
 * Calls in progress by the serial of the certificate that opened them: revoking a credential
 * ends its open streams (a dashboard's watch, an agent's session) at once, not at their next call.
 */
export class OpenCalls {
  private readonly bySerial = new Map<string, Set<ServerInterceptingCallInterface>>();

  add(serial: string, call: ServerInterceptingCallInterface): void {
    const calls = this.bySerial.get(serial) ?? new Set();
    this.bySerial.set(serial, calls);
    calls.add(call);
  }

  delete(serial: string, call: ServerInterceptingCallInterface): void {
    const calls = this.bySerial.get(serial);
    calls?.delete(call);
    if (calls?.size === 0) this.bySerial.delete(serial);
  }

  /** Ends every call of these certificates with PERMISSION_DENIED; returns how many. */
  revoke(serials: readonly string[]): number {
    let ended = 0;
    for (const serial of serials.map(normalSerial)) {
      const calls = this.bySerial.get(serial);
      this.bySerial.delete(serial);
      for (const call of calls ?? []) {
        call.sendStatus({
          code: status.PERMISSION_DENIED,
          details: 'the credential this call was made with has been revoked',
          metadata: null,
        });
        ended++;
      }
    }
    return ended;
  }
}

/**
 * Authentication for one listener, in one place: every call's peer is resolved from its
 * metadata and TLS certificate before its handler runs, and a call without one ends there with
 * the reason. Calls made with a certificate are tracked while open (see OpenCalls).
 */
export function authenticate(auth: ListenerAuth, open?: OpenCalls): ServerInterceptor {
  return (method, call) => {
    let serial: string | undefined;
    const done = () => {
      if (serial) open?.delete(serial, call);
      serial = undefined;
    };
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata(metadata, pass) {
            let peer: Peer | undefined;
            try {
              peer = admit(auth, method.path, metadata, call.getAuthContext().sslPeerCertificate?.raw);
            } catch (err) {
              const { code, details, metadata: trailers } = toServiceError(err);
              call.sendStatus({ code: code!, details: details!, metadata: trailers ?? null });
              return;
            }
            serial = peer?.serial;
            if (serial) open?.add(serial, call);
            pass(metadata);
          },
          onCancel: done,
        }),
      sendStatus: (s, next) => {
        done();
        next(s);
      },
    });
  };
}

function claimedUser(metadata: Metadata): string {
  // Printed in audit lines and on terminals: no control characters.
  return String(metadata.get('x-yard-user')[0] ?? '')
    .slice(0, 64)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
