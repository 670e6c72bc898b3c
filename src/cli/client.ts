import {
  connectivityState,
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { networkInterfaces, userInfo } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { WELCOME_TIMEOUT_MS } from '../agent/backoff.js';
import { isLoopback, parseAddressOrList, parseHostPort } from '../core/address.js';
import { YardError } from '../core/errors.js';
import { controllerFiles } from '../core/paths.js';
import { errorDetailOf } from '../core/rpc/errors.js';
import { CLIENT_OPTIONS } from '../core/rpc/options.js';
import { ControlClient } from '../gen/switchyard/v1/control.js';
import type { Server } from '../gen/switchyard/v1/fleet.js';
import { readRuntime, readStandby } from '../controller/runtime-file.js';
import { readCredential } from './credential.js';

export interface ControllerTarget {
  /** The controller to dial (with several, the one tried first). */
  address: string;
  /**
   * Every controller, in order, when several were given (`--controller A,B`, controllers sharing
   * one CA): a call that cannot reach one tries the next.
   */
  addresses?: readonly string[];
  /** Where the address came from, for error messages. */
  from: string;
  /** Its TCP listener, for the header, when `address` is its Unix socket. */
  listen?: string;
  /** Over TCP: the controller's CA and the operator's key and certificate (PEM), from a credential file. */
  tls?: { caPem: string; keyPem: string; certPem: string };
}

export interface TargetOptions {
  controller?: string;
  /** A credential file (`yard access grant`); else $YARD_CREDENTIAL. */
  credential?: string;
  dataDir: string;
}

/**
 * The controller to talk to: over TCP (TLS) with an operator's credential (--credential FILE or
 * $YARD_CREDENTIAL; its own address unless --controller names another), else the one running
 * for the data dir, over its owner-only Unix socket.
 */
export async function findController(opts: TargetOptions): Promise<ControllerTarget> {
  const files = controllerFiles(opts.dataDir);
  const credentialFile = opts.credential ?? (process.env.YARD_CREDENTIAL || undefined);
  const listed = opts.controller === undefined ? undefined : parseAddressOrList(opts.controller, '--controller');
  if (credentialFile) {
    const c = await readCredential(credentialFile);
    const addresses = listed ?? [c.controller];
    return {
      address: addresses[0]!,
      ...(addresses.length > 1 ? { addresses } : {}),
      from: opts.controller ? '--controller' : `credential ${credentialFile}`,
      tls: { caPem: c.ca, keyPem: c.key, certPem: c.certificate },
    };
  }
  if (listed) {
    // On the controller's own host, its data dir names it: its socket serves the CLI, no credential needed.
    const running = await readRuntime(files.runtime);
    if (running && listed.some((address) => sameListener(running.address, address)))
      return { address: `unix:${files.socket}`, from: `--controller (${files.runtime})`, listen: running.address };
    throw new YardError(
      'NO_CREDENTIAL',
      `--controller ${opts.controller} is reached over TLS with an operator's credential: pass --credential FILE or set $YARD_CREDENTIAL (an admin makes one with \`yard access grant NAME --role viewer|operator|admin\`); on the controller host, leave out --controller and the CLI uses its socket`,
    );
  }
  const running = await readRuntime(files.runtime);
  const standby = running ? undefined : await readStandby(files.standby);
  // A follower on etcd: its socket relays to the leader, which answers as its own socket would.
  if (standby)
    return { address: `unix:${files.socket}`, from: `${files.standby} (a follower; the leader is ${standby.leader})` };
  if (!running) {
    throw new YardError(
      'NO_CONTROLLER',
      `no controller running: looked for ${files.runtime} (none, or its process is gone); start one with \`yard\` or \`yard controller\`, or pass --credential FILE to reach one on another host`,
    );
  }
  return { address: `unix:${files.socket}`, from: files.runtime, listen: running.address };
}

/**
 * Whether `dialled` reaches the listener a controller of this host reports: the same address, or
 * its port on a loopback or local address when it listens on all of them.
 */
function sameListener(listening: string, dialled: string): boolean {
  if (listening === dialled) return true;
  const l = parseHostPort(listening, 'controller.json');
  const d = parseHostPort(dialled, '--controller');
  if (l.port !== d.port || (l.host !== '0.0.0.0' && l.host !== '::')) return false;
  const local = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
  return isLoopback(d.host) || local.includes(d.host);
}

/** Who asks, for the controller's audit trail (a container may have no passwd entry). */
export function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? '';
  }
}

/** What every Control call carries: who the operator says they are (the socket's audit name; a credential names itself). */
function callMetadata(): Metadata {
  const md = new Metadata();
  const user = operatorName();
  if (user) md.set('x-yard-user', user);
  return md;
}

/** TLS with the credential over TCP; the Unix socket needs none. */
function channelCredentials(target: ControllerTarget): ChannelCredentials {
  if (target.address.startsWith('unix:')) return credentials.createInsecure();
  if (!target.tls)
    throw new YardError(
      'NO_CREDENTIAL',
      `${target.address} is reached over TLS with an operator's credential: pass --credential FILE or set $YARD_CREDENTIAL`,
    );
  const { caPem, keyPem, certPem } = target.tls;
  return credentials.createSsl(Buffer.from(caPem), Buffer.from(keyPem), Buffer.from(certPem));
}

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: Date },
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/**
 * A Control client whose calls are promises with a deadline and operator-readable errors. With
 * several controllers (`target.addresses`), a unary call that cannot reach the current one tries
 * the next, each once, and the one that answers stays current (`client` and `target` follow it);
 * when none does, the error names each address and why.
 */
export function controlClient(target: ControllerTarget, timeoutMs = 5000, channelOptions: ChannelOptions = {}) {
  const addresses = target.addresses ?? [target.address];
  const open = (address: string) =>
    // Lists of a large fleet outgrow the 4 MiB default; answers come from our own controller.
    new ControlClient(address, channelCredentials(target), {
      ...CLIENT_OPTIONS,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      ...channelOptions,
    });
  let current = { target: { ...target, address: target.address }, client: open(target.address) };
  const md = callMetadata();
  function once<Req, Res>(on: typeof current, method: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(on.client, req, md, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) =>
        err ? reject(err) : resolve(res),
      );
    });
  }
  async function call<Req, Res>(method: Unary<Req, Res>, req: Req): Promise<Res> {
    const failures: { address: string; why: YardError }[] = [];
    const start = addresses.indexOf(current.target.address);
    for (let i = 0; i < addresses.length; i++) {
      if (i > 0) {
        current.client.close();
        const address = addresses[(start + i) % addresses.length]!;
        current = { target: { ...target, address }, client: open(address) };
      }
      const on = current;
      // A host that takes the connection and never answers would hold grpc-js's connection attempt
      // (and this process) open long after we moved on: with several, such a one is skipped first.
      if (
        addresses.length > 1 &&
        !ready(on.client) &&
        !(await answers(on.target.address, Math.min(timeoutMs, WELCOME_TIMEOUT_MS)))
      ) {
        failures.push({
          address: on.target.address,
          why: new YardError(
            'UNAVAILABLE',
            `cannot reach the controller at ${on.target.address} (from ${target.from}): no answer (timed out); check the address, and that \`yard controller --listen HOST:PORT\` runs there`,
          ),
        });
        continue;
      }
      try {
        return await once(on, method, req);
      } catch (err) {
        const e = err as ServiceError;
        if (addresses.length === 1 || !neverReached(e, on.client)) throw explain(e, on.target);
        failures.push({ address: on.target.address, why: explain(e, on.target) });
      }
    }
    throw new YardError(
      'UNAVAILABLE',
      `no controller answered (from ${target.from}): ${failures.map((f) => `${f.address}: ${f.why.message}`).join('; ')}`,
    );
  }
  /**
   * Settles on a controller that answers (a WhoAmI, which any role may ask) before a stream is
   * opened on `client`: a stream has no unary call to fail over on. Nothing to do with one address.
   */
  async function reach(): Promise<void> {
    if (addresses.length > 1) await call(current.client.whoAmI, {});
  }
  /**
   * Every server, by name, however many pages the controller answers in (it pages past 1000,
   * and its older releases answer whole). Bounded: a page is at least one server.
   */
  async function servers(): Promise<Server[]> {
    const all: Server[] = [];
    let pageToken = '';
    for (let page = 0; page < MAX_SERVER_PAGES; page++) {
      const res = await call(current.client.listServers, { pageSize: 0, pageToken });
      all.push(...res.servers);
      if (!res.nextPageToken || res.servers.length === 0) return all;
      pageToken = res.nextPageToken;
    }
    throw new YardError(
      'RESOURCE_EXHAUSTED',
      `the controller at ${current.target.address} listed more than ${MAX_SERVER_PAGES} pages of servers`,
    );
  }
  return {
    get client() {
      return current.client;
    },
    reach,
    servers,
    /** The controller the last call went to. */
    get target() {
      return current.target;
    },
    call,
    metadata: md,
    close: () => current.client.close(),
  };
}

function ready(client: ControlClient): boolean {
  return client.getChannel().getConnectivityState(false) === connectivityState.READY;
}

/**
 * Whether `address` answers a TLS handshake within `ms`. Nothing is sent and nothing is trusted
 * on its word: any answer counts, even a refusal or a certificate we would not take (the call
 * that follows says what it was); only silence does not.
 */
function answers(address: string, ms: number): Promise<boolean> {
  const { host, port } = parseHostPort(address, '--controller');
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host,
      port,
      servername: isIP(host) ? undefined : host,
      ALPNProtocols: ['h2'],
      rejectUnauthorized: false,
    });
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(true));
  });
}

/** What grpc-js says of a call whose channel never connected. */
const NEVER_CONNECTED =
  /No connection established|ECONNREFUSED|ENOENT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|resolution failed|Failed to connect/i;

/**
 * A call that may safely go to the next controller: this one was never reached (refused, no
 * route, a name that does not resolve, or a deadline passed before the channel was ever up), so
 * it cannot have acted on it.
 */
function neverReached(err: ServiceError, client: ControlClient): boolean {
  // The controller's own answer (it is there, and said no), or a connection lost mid-call (it may have acted).
  if (errorDetailOf(err)) return false;
  if (err.code === status.UNAVAILABLE) return NEVER_CONNECTED.test(err.details);
  return err.code === status.DEADLINE_EXCEEDED && !ready(client);
}

/** More pages than any fleet a controller holds (10,000 agents are 10 pages): a controller paging forever is stopped. */
const MAX_SERVER_PAGES = 1000;

/** A failed call as an operator reads it: the controller's own error, or what went wrong reaching it. */
export function explain(err: ServiceError, target: ControllerTarget): YardError {
  const detail = errorDetailOf(err);
  if (detail) return new YardError(detail.code, detail.message, detail.details);
  if (target.address.startsWith('unix:') && /EACCES|EPERM/.test(err.details)) {
    return new YardError(
      'PERMISSION_DENIED',
      `the controller's socket ${target.address.slice(5)} is for its owner only: run as that user, or reach it over TCP with a credential (--credential FILE)`,
    );
  }
  // The name check first: its error code (ERR_TLS_CERT_ALTNAME_…) also matches CERT_ below.
  if (/Hostname\/IP does not match|ERR_TLS_CERT_ALTNAME/i.test(err.details)) {
    return new YardError(
      'UNAVAILABLE',
      `the controller's certificate does not name ${target.address}: dial it by a name it was started with, or restart it with --advertise-name for this one`,
    );
  }
  if (/self[- ]signed certificate|unable to verify|certificate verify failed|CERT_/i.test(err.details)) {
    return new YardError(
      'UNAVAILABLE',
      `the controller at ${target.address} presented a certificate the credential's CA did not issue: the credential is for another controller (or the controller's data dir was reset: ask its admin for a new credential)`,
    );
  }
  if (err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED) {
    return new YardError(
      'UNAVAILABLE',
      `cannot reach the controller at ${target.address} (from ${target.from}): ${unreachable(err.details)}; ${target.address.startsWith('unix:') ? 'its controller has stopped: `yard` starts one' : 'check the address, and that `yard controller --listen HOST:PORT` runs there'}`,
    );
  }
  return new YardError('RPC_FAILED', `controller at ${target.address} answered: ${err.details}`);
}

/** Why a connection failed, from grpc-js's "No connection established. Last error: …. Resolution note: …". */
function unreachable(details: string): string {
  if (/ECONNREFUSED/.test(details)) return 'nothing listens there (connection refused)';
  if (/ENOENT/.test(details)) return 'its socket is gone';
  if (/ENOTFOUND|EAI_AGAIN|Name resolution failed|DNS resolution failed/i.test(details))
    return 'that host name does not resolve';
  if (/EHOSTUNREACH|ENETUNREACH/.test(details)) return 'no route to that host';
  if (/ETIMEDOUT|timed? ?out|deadline/i.test(details)) return 'no answer (timed out)';
  return (
    details.replace(/\s*Resolution note:\s*$/, '').replace(/^No connection established\. Last error: (Error: )?/, '') ||
    'no connection'
  );
}
