import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import { z } from 'zod';
import { YardError, errorMessage } from '../../core/errors.js';
import { toServiceError } from '../../core/rpc/errors.js';
import { labelsSchema, validate } from '../../core/validate.js';
import {
  DEFAULT_CHECKPOINT_SIGNAL,
  DEFAULT_CHECKPOINT_TIMEOUT_MS,
  MigrationStrategy,
  RestartPolicy,
  WORKLOAD_NAME,
  migrationDone,
  type Migration,
  type WorkloadSpec,
} from '../../core/workload.js';
import { WorkloadSignal, type ConsoleRequest } from '../../gen/switchyard/v1/agent_gateway.js';
import type { AttachRequest, AttachResponse, ControlServer, LogsRequest, LogsResponse, WatchMigrationRequest, WatchMigrationResponse } from '../../gen/switchyard/v1/control.js';
import type { AgentLinks } from '../agent-links.js';
import type { AuditLog } from '../audit.js';
import type { AgentConsole, JoinedConsole } from '../consoles.js';
import type { Coordinator } from '../migration/coordinator.js';
import type { Registry } from '../registry.js';
import type { WorkloadService } from '../workload-service.js';
import { isLive, type WorkloadTable } from '../workloads.js';
import { unary, type ControlAuth } from './auth.js';

export interface WorkloadControlOptions {
  registry: Registry;
  workloads: WorkloadTable;
  links: AgentLinks;
  /** Stop, restart, logs and consoles: shared with the embedded dashboard. */
  service: WorkloadService;
  coordinator: Coordinator;
  audit: AuditLog;
  /** Who may call, on the listener these handlers serve. */
  auth: ControlAuth;
}

const specSchema = z.looseObject({
  name: z.string().regex(WORKLOAD_NAME, 'must be 1–63 letters, digits, . _ - (starting with a letter or digit)'),
  command: z.string().min(1, 'must not be empty').max(4096),
  args: z.array(z.string().max(65_536)).max(1024),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'names must be shell-style (A-Z, 0-9, _)'), z.string().max(65_536)),
  cwd: z.string().max(4096),
  labels: labelsSchema,
  checkpointSignal: z.string().regex(/^(SIG[A-Z0-9]+)?$/, 'must be a signal name like SIGUSR1'),
  checkpointTimeoutMs: z.number().int().min(0).max(3_600_000),
  ports: z.array(z.number().int().min(1).max(65535)).max(64),
});

function withDefaults(spec: WorkloadSpec): WorkloadSpec {
  return {
    ...spec,
    restart: spec.restart || RestartPolicy.RESTART_POLICY_NEVER,
    strategy: spec.strategy || MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    checkpointSignal: spec.checkpointSignal || DEFAULT_CHECKPOINT_SIGNAL,
    checkpointTimeoutMs: spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS,
  };
}

/** Control: workloads (run, stop, pause, logs, attach) and migrations. */
export function workloadControl(o: WorkloadControlOptions): Omit<ControlServer, 'listServers' | 'getServer' | 'overview' | 'watchFleet'> {
  const { registry, workloads, links, auth } = o;
  const server = (idOrName: string) => {
    const r = registry.get(idOrName);
    if (!r) throw new YardError('NOT_FOUND', `no server "${idOrName}": \`yard servers\` lists them`, { server: idOrName });
    return r.server;
  };
  const nameOf = (idOrName: string) => registry.get(idOrName)?.server.name ?? idOrName;
  const send = (serverId: string, action: Parameters<AgentLinks['send']>[1]) => links.send(serverId, action, 30_000, registry.get(serverId)?.server.name);
  /** A mutating call: authenticated, then run and recorded in the audit trail with its outcome. */
  const audited = <Req, Res>(action: string, target: (req: Req) => string, handle: (req: Req, who: string) => Res | Promise<Res>) =>
    unary<Req, Res>(auth, (req, _md, call) => {
      const who = auth.who(call);
      return o.audit.record(who, action, target(req), () => handle(req, who));
    });

  /**
   * Asks the agent to open a console and waits for it to dial back. If the operator went away
   * meanwhile, the agent's stream is closed at once (no console left open on the agent).
   */
  async function openConsole(call: { cancelled: boolean; on(e: 'cancelled', f: () => void): unknown }, name: string, interactive: boolean, size: { cols: number; rows: number }): Promise<JoinedConsole | undefined> {
    const joined = await o.service.console(name, interactive, size);
    if (call.cancelled) {
      joined.call.end();
      return undefined;
    }
    call.on('cancelled', () => joined.call.end());
    return joined;
  }

  return {
    runWorkload: audited('workload.run', (req) => `${req.spec?.name ?? ''} on ${nameOf(req.server)}`, async (req) => {
      if (!req.spec) throw new YardError('INVALID_ARGUMENT', 'no workload spec given');
      const spec = withDefaults(validate(specSchema, req.spec, 'workload'));
      const target = server(req.server);
      const existing = workloads.instances(spec.name).find(isLive);
      if (existing) throw new YardError('ALREADY_EXISTS', `a workload named ${spec.name} already runs on ${registry.get(existing.serverId)?.server.name ?? existing.serverId}: pick another --name`);
      const res = await send(target.id, { $case: 'start', value: { spec, restore: false, provisional: false } });
      return { workload: res.workload };
    }),
    listWorkloads: unary(auth, () => ({ workloads: workloads.list() })),
    stopWorkload: audited('workload.stop', (req) => (req.remove ? `${req.name} (and remove)` : req.name), async (req) => ({ workload: await o.service.stop(req.name, req.remove) })),
    restartWorkload: audited('workload.restart', (req) => req.name, async (req) => ({ workload: await o.service.restart(req.name) })),
    pauseWorkload: audited('workload.pause', (req) => req.name, async (req) => {
      const w = workloads.find(req.name);
      return { workload: (await send(w.serverId, { $case: 'signal', value: { name: req.name, signal: WorkloadSignal.WORKLOAD_SIGNAL_PAUSE } })).workload };
    }),
    resumeWorkload: audited('workload.resume', (req) => req.name, async (req) => {
      const w = workloads.find(req.name);
      return { workload: (await send(w.serverId, { $case: 'signal', value: { name: req.name, signal: WorkloadSignal.WORKLOAD_SIGNAL_RESUME } })).workload };
    }),

    logs(call: ServerWritableStream<LogsRequest, LogsResponse>) {
      void (async () => {
        auth.check(call.metadata);
        if (!call.request.follow) {
          call.write({ data: await o.service.tail(call.request.name, call.request.tailBytes) });
          call.end();
          return;
        }
        const joined = await openConsole(call, call.request.name, false, { cols: 0, rows: 0 });
        if (!joined) return;
        const pipe = (f: ConsoleRequest) => {
          if (f.data.length) call.write({ data: f.data });
          if (f.closed) call.end();
        };
        pipe(joined.first);
        joined.call.on('data', pipe);
        joined.call.on('error', () => call.end());
        joined.call.on('end', () => call.end());
      })().catch((err: unknown) => call.emit('error', toServiceError(err)));
    },

    attach(call: ServerDuplexStream<AttachRequest, AttachResponse>) {
      let agentCall: AgentConsole | undefined;
      const early: AttachRequest[] = [];
      const forward = (req: AttachRequest) => {
        if (!agentCall) return void early.push(req);
        if (req.msg?.$case === 'input') agentCall.write({ input: req.msg.value, cols: 0, rows: 0 });
        else if (req.msg?.$case === 'resize') agentCall.write({ input: Buffer.alloc(0), cols: req.msg.value.cols, rows: req.msg.value.rows });
      };
      call.once('data', (first: AttachRequest) => {
        void (async () => {
          auth.check(call.metadata);
          if (first.msg?.$case !== 'open') throw new YardError('INVALID_ARGUMENT', 'the first attach message must name the workload');
          const { name, size } = first.msg.value;
          const joined = await openConsole(call, name, true, { cols: size?.cols ?? 80, rows: size?.rows ?? 24 });
          if (!joined) return;
          agentCall = joined.call;
          const pipe = (f: ConsoleRequest) => {
            if (f.data.length) call.write({ data: f.data, closed: false, reason: '' });
            if (f.closed) {
              call.write({ data: Buffer.alloc(0), closed: true, reason: f.reason });
              call.end();
            }
          };
          pipe(joined.first);
          agentCall.on('data', pipe);
          agentCall.on('error', () => call.end());
          agentCall.on('end', () => call.end());
          for (const r of early.splice(0)) forward(r);
          call.on('end', () => agentCall?.end());
        })().catch((err: unknown) => call.emit('error', toServiceError(err)));
        call.on('data', forward);
      });
    },

    planMigration: unary(auth, (req) => {
      const plan = o.coordinator.plan(req.workload, req.target || undefined, req.strategy || undefined);
      return { workload: plan.workload, targets: plan.targets, preflight: plan.preflight, strategy: plan.strategy };
    }),
    startMigration: audited('migration.start', (req) => `${req.workload} → ${nameOf(req.target)}`, async (req, who) => ({
      migration: await o.coordinator.start(req.workload, req.target, req.strategy || undefined, who),
    })),
    cancelMigration: audited('migration.cancel', (req) => req.id, (req) => ({ migration: o.coordinator.cancel(req.id) })),
    listMigrations: unary(auth, () => ({ migrations: o.coordinator.list() })),
    listAudit: unary(auth, (req) => ({ entries: o.audit.list(req.limit) })),

    watchMigration(call: ServerWritableStream<WatchMigrationRequest, WatchMigrationResponse>) {
      try {
        auth.check(call.metadata);
        const first = o.coordinator.get(call.request.id);
        const id = first.id;
        const onChange = (m: Migration) => {
          if (m.id !== id) return;
          call.write({ migration: m });
          if (migrationDone(m.phase)) stop();
        };
        const stop = () => {
          o.coordinator.off('migration', onChange);
          call.end();
        };
        o.coordinator.on('migration', onChange);
        call.on('cancelled', () => o.coordinator.off('migration', onChange));
        onChange(first);
      } catch (err) {
        call.emit('error', toServiceError(err instanceof Error ? err : new Error(errorMessage(err))));
      }
    },
  };
}
