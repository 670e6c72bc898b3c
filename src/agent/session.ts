import { Metadata, type ChannelCredentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { errorDetailOf } from '../core/rpc/errors.js';
import { CLIENT_OPTIONS } from '../core/rpc/options.js';
import type { HostSample } from '../core/types.js';
import type { Workload } from '../core/workload.js';
import {
  AgentGatewayClient,
  type AgentCommand,
  type AgentHello,
  type CommandResult,
  type ConnectRequest,
  type ConnectResponse,
} from '../gen/switchyard/v1/agent_gateway.js';
import type { RouteStats } from '../gen/switchyard/v1/route.js';
import { Backoff, Rotation, WELCOME_TIMEOUT_MS } from './backoff.js';

export interface SessionOptions {
  /** The controllers to dial, in order (`--controller A,B`): a lost one is replaced by the next. */
  controllers: readonly string[];
  /** TLS for each new channel (the agent's certificate may have been renewed since the last). */
  credentials: () => ChannelCredentials;
  hello: () => AgentHello;
  /** Samples taken since the last call (bounded by the sampler). */
  drain: () => HostSample[];
  log: Logger;
  onState?: (state: 'connected' | 'disconnected', detail: string) => void;
  /** The controller's orders; the result goes back on the session. */
  onCommand?: (command: AgentCommand) => Promise<CommandResult>;
  /** Every workload here, sent after the welcome and whenever sendSnapshot() is called. */
  snapshot?: () => Workload[];
  /** Proxy agents: the counters of every route placed here, sent with each heartbeat. */
  routeStats?: () => RouteStats[];
  /** How long to wait between dials (default: about 1 s doubling to 30 s; tests use a faster one). */
  backoff?: Backoff;
}

/** Its own subchannel: one shared through grpc-js's global pool would keep its backoff across channels. */
const SESSION_OPTIONS = { ...CLIENT_OPTIONS, 'grpc.use_local_subchannel_pool': 1 };

/** Refusals that retrying soon will not cure: wait the longest backoff before trying again. */
const STUBBORN = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED', 'PROTOCOL_VERSION', 'INVALID_ARGUMENT']);

/**
 * The agent's side of AgentGateway.Connect: dial, hello, heartbeat at the controller's pace,
 * and on any loss reconnect with jittered backoff. It never gives up: the agent outlives its
 * controller.
 */
export class AgentSession {
  /** The channel of the current dial; each dial gets a fresh one. */
  private client?: AgentGatewayClient;
  private readonly rotation: Rotation;
  private rejoining = false;
  private call?: ClientDuplexStream<ConnectRequest, ConnectResponse>;
  private heartbeatTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private seq = 0;
  private stopped = false;
  private refusal?: string;
  private connected = false;
  private intervalMs = 0;

  constructor(private readonly opts: SessionOptions) {
    this.rotation = new Rotation(opts.controllers, opts.backoff ?? new Backoff());
  }

  /** The controller this session is with, or dials next. */
  get controller(): string {
    return this.rotation.current;
  }

  start(): void {
    this.dial();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.snapshotTimer);
    clearInterval(this.heartbeatTimer);
    this.call?.cancel();
    this.client?.close();
  }

  /** Dials at once if it is waiting to retry: someone who knows the controller is back says so. */
  dialNow(): void {
    if (this.stopped || !this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.opts.log.info(`dialling controller ${this.controller} now, as asked`);
    this.dial();
  }

  /** Tells the controller how far a long command has got (dropped while away: the result follows anyway). */
  progress(id: string, bytesDone: number): void {
    if (this.connected) this.call?.write({ msg: { $case: 'progress', value: { id, bytesDone } } });
  }

  /**
   * Ends a live session so the agent says hello again (after the first backoff step, about a
   * second): what it says of itself changed, e.g. nvidia-smi answered after it joined.
   */
  rejoin(why: string): void {
    if (this.stopped || !this.connected) return;
    this.opts.log.info(`rejoining controller ${this.controller}: ${why}`);
    this.rejoining = true;
    this.call?.cancel();
  }

  /**
   * A fresh channel per dial, with a subchannel of its own, closed when its session ends: a
   * grpc-js channel that failed to connect keeps its own backoff (1 s growing to 120 s) and fails
   * every call at once until that runs out, so a controller back on its port went unseen for up
   * to two minutes. This way our backoff is the only one and each dial really connects.
   * With several controllers, a lost or refused one is replaced by the next in the list after
   * one first backoff step (see Rotation); the ramp grows only once all of them failed in a row.
   */
  private dial(): void {
    this.retryTimer = undefined;
    this.refusal = undefined;
    const controller = this.controller;
    const client = new AgentGatewayClient(controller, this.opts.credentials(), SESSION_OPTIONS);
    this.client = client;
    const call = client.connect(new Metadata());
    this.call = call;
    let ended = false;
    const lost = (why: string, stubborn: boolean) => {
      if (ended) return;
      ended = true;
      clearTimeout(silent);
      client.close();
      clearInterval(this.heartbeatTimer);
      this.heartbeatTimer = undefined;
      if (this.stopped) return;
      // A rejoin says hello again to the same controller; anything else may move on to the next.
      const { address, waitMs: wait } = this.rejoining
        ? { address: controller, waitMs: this.rotation.again() }
        : this.rotation.failed(stubborn);
      this.rejoining = false;
      if (this.connected) this.opts.onState?.('disconnected', why);
      this.connected = false;
      const where = address === controller ? '' : ` to ${address}`;
      this.opts.log.warn(
        `controller ${controller} unreachable or refused: ${why}; reconnecting${where} in ${(wait / 1000).toFixed(1)}s`,
      );
      this.retryTimer = setTimeout(() => this.dial(), wait);
    };

    // One controller: wait for it however long (as always). Several: move on from a silent one.
    const silent =
      this.rotation.addresses.length > 1
        ? setTimeout(() => {
            if (this.connected || ended) return;
            lost(`no welcome within ${WELCOME_TIMEOUT_MS / 1000}s`, false);
            call.cancel();
          }, WELCOME_TIMEOUT_MS)
        : undefined;
    call.on('data', (res: ConnectResponse) => {
      if (res.msg?.$case === 'welcome') clearTimeout(silent);
      this.onResponse(res);
    });
    call.on('error', (err: ServiceError) => {
      const detail = errorDetailOf(err);
      const code = detail?.code ?? this.refusal;
      lost(detail?.message ?? err.details ?? errorMessage(err), code !== undefined && STUBBORN.has(code));
    });
    call.on('end', () => lost('the controller ended the session', false));
    call.write({ msg: { $case: 'hello', value: this.opts.hello() } });
  }

  private onResponse(res: ConnectResponse): void {
    const msg = res.msg;
    if (msg?.$case === 'welcome') {
      this.rotation.succeeded();
      this.connected = true;
      this.opts.log.info(`connected to controller ${this.controller}`, {
        server: msg.value.serverId,
        heartbeatMs: msg.value.heartbeatIntervalMs,
      });
      this.opts.onState?.('connected', this.controller);
      this.schedule(msg.value.heartbeatIntervalMs);
      if (this.opts.snapshot)
        this.call?.write({ msg: { $case: 'workloads', value: { workloads: this.opts.snapshot() } } });
    } else if (msg?.$case === 'ack') {
      this.schedule(msg.value.heartbeatIntervalMs);
    } else if (msg?.$case === 'command') {
      const call = this.call;
      const placesRoutes = msg.value.action?.$case === 'routes';
      void this.opts.onCommand?.(msg.value).then((result) => {
        call?.write({ msg: { $case: 'result', value: result } });
        // Fresh route counters at once: a migration waiting for a held backend's open
        // connections to finish need not wait for the next heartbeat.
        if (placesRoutes && call === this.call) this.beat();
      });
    } else if (msg?.$case === 'error') {
      this.refusal = msg.value.code;
      this.opts.log.error(`controller refused this agent: ${msg.value.message}`, { code: msg.value.code });
    }
  }

  /** The controller sets the pace; re-arm only when it changes. */
  private schedule(intervalMs: number): void {
    const ms = Math.max(100, intervalMs || 1000);
    if (ms === this.intervalMs && this.heartbeatTimer) return;
    this.intervalMs = ms;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => this.beat(), ms);
  }

  /** Tells the controller what runs here (coalesced: at most one snapshot per 100 ms). */
  sendSnapshot(): void {
    if (this.snapshotTimer || !this.connected) return;
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = undefined;
      if (this.connected && this.opts.snapshot)
        this.call?.write({ msg: { $case: 'workloads', value: { workloads: this.opts.snapshot() } } });
    }, 100);
  }

  private snapshotTimer?: NodeJS.Timeout;

  private beat(): void {
    const call = this.call;
    if (!call || !this.connected) return;
    // Backpressure: if the last write is still buffered, skip this beat; samples wait in the sampler's bounded buffer.
    if (call.writableNeedDrain) return;
    call.write({
      msg: {
        $case: 'heartbeat',
        value: { seq: ++this.seq, samples: this.opts.drain(), routes: this.opts.routeStats?.() ?? [] },
      },
    });
  }
}
