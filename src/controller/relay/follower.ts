import { Client, Server as GrpcServer, credentials, type ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { unlink } from 'node:fs/promises';
import { formatHostPort, parseHostPort } from '../../core/address.js';
import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { newKeyPair, privateKeyPem } from '../../core/pki/x509.js';
import { CLIENT_OPTIONS, SERVER_OPTIONS } from '../../core/rpc/options.js';
import { AgentGatewayService } from '../../gen/switchyard/v1/agent_gateway.js';
import { ControlService } from '../../gen/switchyard/v1/control.js';
import { listenLocal } from '../grpc/local-socket.js';
import { addReflection } from '../grpc/reflection.js';
import { BULK_WINDOW_BYTES, raiseConnectionWindow, raiseStreamWindow } from '../grpc/windows.js';
import type { CertificateAuthority } from '../pki/certificate-authority.js';
import { issueControllerCertificate } from '../pki/client-certificates.js';
import { asIs, relayHandler, type MethodShape, type Upstream } from './passthrough.js';

/** A follower's certificate toward the leader lives this long; a new one is issued for each leader and daily. */
const RELAY_CERT_LIFETIME_MS = 2 * 24 * 3600_000;
const RELAY_CERT_RENEW_MS = 24 * 3600_000;

export interface FollowerOptions {
  listen: string;
  /** This controller's TLS: the fleet's CA and its own server certificate. */
  credentials: ServerCredentials;
  ca: CertificateAuthority;
  controllerId: string;
  /** This host's owner-only control socket: its calls reach the leader as the local admin's. */
  socket: string;
  log: Logger;
  /** An agent's session through this follower was accepted by the leader; returns what to do when it ends. */
  onAgentSession?(certificate: Buffer): () => void;
}

/**
 * A follower controller: it serves agents, CLIs and dashboards on its own port with its own
 * certificate, and relays every call to the leader over one connection, as a controller
 * (`yard://controller/<id>`), with the client's certificate in the call's metadata. The leader
 * checks that certificate as if the client had dialled it (CA, dates, revocation, role), so
 * there is one place that decides, and revoking a credential ends its relayed calls too. With no
 * leader, calls are answered UNAVAILABLE at once and clients move on to the next controller.
 * Its owner-only Unix socket serves this host's CLI and dashboards the same way, as the leader's
 * own socket would.
 */
export class FollowerRelay {
  private leader?: { address: string; client: Client; issuedMs: number; renewing: boolean };
  private readonly calls = new Set<() => void>();
  private following?: string;
  private generation = 0;

  private constructor(
    private readonly servers: GrpcServer[],
    readonly port: number,
    private readonly o: FollowerOptions,
  ) {}

  static async listen(o: FollowerOptions): Promise<FollowerRelay> {
    const hp = parseHostPort(o.listen, '--listen');
    const server = new GrpcServer({ ...SERVER_OPTIONS, 'grpc.max_receive_message_length': -1 });
    raiseStreamWindow(server);
    let relay: FollowerRelay | undefined;
    const upstream: Upstream = {
      client: () => relay?.client(),
      track: (cancel) => {
        relay?.calls.add(cancel);
        return () => relay?.calls.delete(cancel);
      },
      opened: (path, certificate) =>
        path === AgentGatewayService.connect.path && certificate ? o.onAgentSession?.(certificate) : undefined,
    };
    const local = new GrpcServer(SERVER_OPTIONS);
    for (const service of [ControlService, AgentGatewayService]) {
      for (const method of Object.values(service) as MethodShape[]) {
        server.register(method.path, relayHandler(method, upstream), asIs, asIs, kindOf(method));
        if (service === ControlService)
          local.register(method.path, relayHandler(method, { ...upstream, local: true }), asIs, asIs, kindOf(method));
      }
    }
    for (const s of [server, local]) {
      new HealthImplementation({ '': 'SERVING' }).addToServer(s);
      addReflection(s);
    }
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(formatHostPort(hp), o.credentials, (err, p) => (err ? reject(err) : resolve(p))),
    ).catch((err: unknown) => {
      throw new YardError(
        'LISTEN_FAILED',
        `cannot listen on ${o.listen}: ${errorMessage(err)}; pick another with --listen`,
      );
    });
    raiseConnectionWindow(server);
    await listenLocal(local, o.socket).catch((err: unknown) => {
      server.forceShutdown();
      throw err;
    });
    relay = new FollowerRelay([server, local], port, o);
    return relay;
  }

  /** Where the leader is now (host:port), or undefined while none leads. */
  follow(leader: string | undefined): void {
    if (leader === this.following) return;
    this.following = leader;
    this.dropLeader();
    if (leader) this.o.log.info('follower: calls to this controller are relayed to the leader', { leader });
    this.generation++;
    if (leader) this.dial(leader);
  }

  /** Stops serving: every relayed call ends (this controller is about to serve on the port itself). */
  async close(): Promise<void> {
    this.generation++;
    this.dropLeader();
    for (const s of this.servers) s.forceShutdown();
    await unlink(this.o.socket).catch(() => undefined);
  }

  private client(): Client | undefined {
    const l = this.leader;
    // A fresh certificate for new calls, well before this one expires; calls open now keep the
    // old connection until they end (a closed channel takes no new calls).
    if (l && !l.renewing && Date.now() - l.issuedMs > RELAY_CERT_RENEW_MS) {
      l.renewing = true;
      this.dial(l.address);
    }
    return l?.client;
  }

  /** A channel to `address` with a new certificate: the leader's from then on, unless it changed meanwhile. */
  private dial(address: string): void {
    const generation = this.generation;
    void this.connect(address).then(
      (client) => {
        if (generation !== this.generation) return client.close();
        this.leader?.client.close();
        this.leader = { address, client, issuedMs: Date.now(), renewing: false };
      },
      (err: unknown) => {
        if (this.leader) this.leader.renewing = false;
        this.o.log.error('follower: cannot reach the leader', { leader: address, error: errorMessage(err) });
      },
    );
  }

  private dropLeader(): void {
    for (const cancel of [...this.calls]) cancel();
    this.calls.clear();
    this.leader?.client.close();
    this.leader = undefined;
  }

  private async connect(address: string): Promise<Client> {
    const keys = await newKeyPair();
    const cert = await issueControllerCertificate(this.o.ca, this.o.controllerId, keys.publicKey, {
      lifetimeMs: RELAY_CERT_LIFETIME_MS,
    });
    const creds = credentials.createSsl(
      Buffer.from(this.o.ca.certPem),
      Buffer.from(await privateKeyPem(keys.privateKey)),
      Buffer.from(cert.certPem),
    );
    return new Client(address, creds, {
      ...CLIENT_OPTIONS,
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc-node.flow_control_window': BULK_WINDOW_BYTES,
    });
  }
}

function kindOf(m: MethodShape): string {
  if (m.requestStream) return m.responseStream ? 'bidi' : 'clientStream';
  return m.responseStream ? 'serverStream' : 'unary';
}

/** Where other controllers reach this one: the listen address, or for a wildcard one the first advertised name. */
export function dialAddress(listen: string, port: number, advertiseNames: readonly string[], hostname: string): string {
  const hp = parseHostPort(listen, '--listen');
  const wildcard = hp.host === '0.0.0.0' || hp.host === '::';
  return formatHostPort({ host: wildcard ? (advertiseNames[0] ?? hostname) : hp.host, port });
}
