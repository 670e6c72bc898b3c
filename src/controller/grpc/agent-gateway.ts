import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import { z } from 'zod';
import { YardError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { toServiceError } from '../../core/rpc/errors.js';
import { ROUTE_LIMITS } from '../../core/route.js';
import { labelsSchema } from '../../core/schema/labels.js';
import {
  LIMITS,
  hostnameSchema,
  locationSchema,
  plainText,
  serverIdSchema,
  serverNameSchema,
  validate,
} from '../../core/validate.js';
import { PROTOCOL_VERSION } from '../../core/version.js';
import type {
  AgentGatewayServer,
  AgentHello,
  ConnectRequest,
  ConnectResponse,
} from '../../gen/switchyard/v1/agent_gateway.js';
import type { AgentLinks } from '../agent-links.js';
import { agentOf, peerAddressOf, relayOf } from './auth.js';
import type { Registry } from '../registry.js';
import type { Router } from '../router/router.js';
import { knownWorkload } from '../../core/domain.js';
import type { WorkloadTable } from '../workloads.js';
import type { HeartbeatBudget } from '../heartbeat-budget.js';

export interface GatewayOptions {
  registry: Registry;
  links: AgentLinks;
  workloads: WorkloadTable;
  /** Takes the proxies' route counters from their heartbeats. */
  router: Pick<Router, 'report'>;
  controllerId: string;
  /** The pace agents are told, shared among those connected (heartbeat-budget.ts). */
  heartbeat: HeartbeatBudget;
  /**
   * The server a session's certificate speaks for, given the id its hello claims (default: what
   * the listener's interceptor checked; tests of sessions without TLS trust the claim).
   */
  certified?: (call: { metadata: Metadata }, claimed: string) => string;
  /**
   * An agent connected to this controller itself (not through a follower, which records its own):
   * its presence for the other controllers; returns what to do when the session ends.
   */
  presence?: (serverId: string) => () => void;
  log: Logger;
}

const helloSchema = z.looseObject({
  serverId: serverIdSchema,
  hostname: hostnameSchema,
  name: serverNameSchema,
  addresses: z.array(plainText(64)).max(LIMITS.addresses),
  labels: labelsSchema,
  location: locationSchema,
  capabilities: z.looseObject({ gpus: z.array(z.unknown()).max(LIMITS.gpus) }).optional(),
});

const sampleSchema = z.looseObject({
  cpuPerCorePct: z.array(z.number()).max(LIMITS.cores),
  disks: z.array(z.unknown()).max(LIMITS.disks),
  nets: z.array(z.unknown()).max(LIMITS.nets),
  gpus: z.array(z.looseObject({ processes: z.array(z.unknown()).max(LIMITS.gpuProcesses) })).max(LIMITS.gpus),
});
const routeStatsSchema = z.looseObject({
  name: z.string().max(LIMITS.nameLength),
  endpoints: z.array(z.looseObject({ key: z.string().max(512) })).max(ROUTE_LIMITS.endpoints),
});
const heartbeatSchema = z.looseObject({
  samples: z.array(sampleSchema).max(LIMITS.samplesPerHeartbeat),
  routes: z.array(routeStatsSchema).max(ROUTE_LIMITS.routes),
});

type Session = ServerDuplexStream<ConnectRequest, ConnectResponse>;

const snapshotSchema = z.looseObject({
  workloads: z
    .array(z.looseObject({ spec: z.looseObject({ name: z.string().min(1).max(63) }) }))
    .max(LIMITS.workloadsPerAgent),
});

/** AgentGateway.Connect: one session per agent — hello, heartbeats, commands and their results. */
export function agentSessions(opts: GatewayOptions): Pick<AgentGatewayServer, 'connect'> & {
  /** Ends the server's sessions now, telling its agent why (its certificate was revoked). */
  drop(serverId: string, err: YardError): void;
} {
  const { registry, links, workloads, log } = opts;
  const certified = opts.certified ?? ((call: { metadata: Metadata }) => agentOf(call));
  const sessions = new Map<symbol, Session>();
  const ends = new Map<symbol, { serverId: string; end: (why: string) => void }>();

  function refuse(call: Session, err: YardError): void {
    call.write({ msg: { $case: 'error', value: { code: err.code, message: err.message, details: err.details } } });
    call.emit('error', toServiceError(err));
  }

  function checkHello(hello: AgentHello, peer: string, certified: string): AgentHello {
    if (hello.protocolVersion !== PROTOCOL_VERSION) {
      throw new YardError(
        'PROTOCOL_VERSION',
        `agent ${hello.hostname || peer} speaks protocol version ${hello.protocolVersion}, this controller speaks ${PROTOCOL_VERSION}: run the same Switchyard version on both`,
        { agentVersion: String(hello.protocolVersion), controllerVersion: String(PROTOCOL_VERSION) },
      );
    }
    const checked = validate(helloSchema, hello, 'agent hello');
    // Its certificate says which server it speaks for; the hello may not claim another.
    if (checked.serverId !== certified)
      throw new YardError(
        'PERMISSION_DENIED',
        `agent ${hello.name || hello.hostname || peer} says it is server ${checked.serverId}, but its certificate is server ${certified}'s: an agent speaks only for the server its certificate names`,
        { serverId: checked.serverId },
      );
    return checked;
  }

  return {
    drop(serverId, err) {
      for (const [session, s] of [...ends]) {
        if (s.serverId !== serverId) continue;
        const call = sessions.get(session);
        if (call) refuse(call, err);
        s.end(err.code);
      }
    },
    connect(call: Session) {
      const session = Symbol('session');
      const peer = peerAddressOf(call);
      let serverId: string | undefined;
      let absent: (() => void) | undefined;

      const end = (why: string) => {
        ends.delete(session);
        absent?.();
        absent = undefined;
        if (!sessions.delete(session)) return;
        if (serverId) {
          registry.disconnect(serverId, session);
          links.detach(serverId, session, why);
          log.info('agent session ended', { server: serverId, peer, why });
        }
      };

      call.on('data', (req: ConnectRequest) => {
        try {
          if (req.msg?.$case === 'hello') {
            if (serverId) throw new YardError('FAILED_PRECONDITION', 'hello sent twice on one session');
            const hello = checkHello(req.msg.value, peer, certified(call, req.msg.value.serverId));
            serverId = hello.serverId;
            sessions.set(session, call);
            ends.set(session, { serverId, end });
            const { superseded } = registry.connect(hello, session);
            if (!relayOf(call)) absent = opts.presence?.(serverId);
            if (superseded)
              sessions
                .get(superseded)
                ?.emit(
                  'error',
                  toServiceError(
                    new YardError('SUPERSEDED', `a newer session for server ${serverId} replaced this one`),
                  ),
                );
            links.attach(hello.serverId, session, (command) =>
              call.write({ msg: { $case: 'command', value: command } }),
            );
            call.write({
              msg: {
                $case: 'welcome',
                value: {
                  serverId: hello.serverId,
                  controllerId: opts.controllerId,
                  protocolVersion: PROTOCOL_VERSION,
                  heartbeatIntervalMs: opts.heartbeat.intervalMs(registry.connected),
                  heartbeatTtlMs: registry.heartbeatTtlMs,
                },
              },
            });
            log.info('agent online', { server: serverId, name: hello.name || hello.hostname, peer });
          } else if (req.msg?.$case === 'heartbeat') {
            if (!serverId) throw new YardError('FAILED_PRECONDITION', 'the first message of a session must be a hello');
            const hb = validate(heartbeatSchema, req.msg.value, 'heartbeat');
            registry.heartbeat(serverId, session, hb.samples);
            // Only the current session speaks for the proxy (a superseded one may still send).
            if (hb.routes.length > 0 && registry.get(serverId)?.session === session)
              opts.router.report(serverId, hb.routes);
            call.write({
              msg: {
                $case: 'ack',
                value: {
                  seq: hb.seq,
                  heartbeatIntervalMs: opts.heartbeat.intervalMs(registry.connected),
                  heartbeatTtlMs: registry.heartbeatTtlMs,
                },
              },
            });
          } else if (req.msg?.$case === 'result') {
            if (!serverId) throw new YardError('FAILED_PRECONDITION', 'the first message of a session must be a hello');
            links.settle(serverId, req.msg.value);
          } else if (req.msg?.$case === 'progress') {
            if (!serverId) throw new YardError('FAILED_PRECONDITION', 'the first message of a session must be a hello');
            links.progress(serverId, req.msg.value.id, Number(req.msg.value.bytesDone));
          } else if (req.msg?.$case === 'workloads') {
            if (!serverId) throw new YardError('FAILED_PRECONDITION', 'the first message of a session must be a hello');
            workloads.replace(
              serverId,
              validate(snapshotSchema, req.msg.value, 'workload snapshot').workloads.map(knownWorkload),
            );
          } else {
            throw new YardError('INVALID_ARGUMENT', 'empty session message: expected a hello or a heartbeat');
          }
        } catch (err) {
          const e = err instanceof YardError ? err : new YardError('INTERNAL', errorMessage(err));
          log.warn('agent refused', { peer, server: serverId, code: e.code, error: e.message });
          refuse(call, e);
          end(e.code);
        }
      });
      call.on('end', () => {
        end('agent closed the session');
        call.end();
      });
      call.on('error', (err) => end(errorMessage(err)));
      call.on('cancelled', () => end('cancelled'));
      call.on('close', () => end('closed'));
    },
  };
}
