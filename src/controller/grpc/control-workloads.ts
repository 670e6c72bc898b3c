import type { ServerDuplexStream, ServerWritableStream } from '@grpc/grpc-js';
import { YardError } from '../../core/errors.js';
import type { LogSink } from '../../core/fleet.js';
import type { ConsoleRequest } from '../../gen/switchyard/v1/agent_gateway.js';
import type {
  AttachRequest,
  AttachResponse,
  ControlServer,
  LogsRequest,
  LogsResponse,
  WatchMigrationRequest,
  WatchMigrationResponse,
} from '../../gen/switchyard/v1/control.js';
import { migrationDone, type Migration } from '../../core/workload.js';
import type { AgentConsole } from '../consoles.js';
import { listAudit } from '../service/audit.js';
import {
  cancelMigration,
  listMigrations,
  planMigration,
  startMigration,
  watchMigration,
} from '../service/migrations.js';
import type { ControllerService } from '../service/service.js';
import type { ServerRpcs } from './control.js';
import type { RouteRpcs } from './control-routes.js';
import {
  attachConsole,
  followLogs,
  listWorkloads,
  pauseWorkload,
  restartWorkload,
  resumeWorkload,
  runWorkload,
  stopWorkload,
  tailLogs,
} from '../service/workloads.js';
import { streaming, unary } from './adapt.js';

type Cancellable = { cancelled: boolean; on(e: 'cancelled', f: () => void): unknown };

/** Ends what was opened for the caller when the caller goes away, or at once if it already has. */
function untilCancelled(call: Cancellable, close: () => void): boolean {
  if (call.cancelled) {
    close();
    return false;
  }
  call.on('cancelled', close);
  return true;
}

/** Control: workloads (run, stop, pause, logs, attach), migrations and the audit trail, over the controller service. */
export function workloadControl(service: ControllerService): Omit<ControlServer, ServerRpcs | RouteRpcs> {
  return {
    runWorkload: unary(async (req, caller) => ({ workload: await service.change(caller, runWorkload, req) })),
    listWorkloads: unary((_req, caller) => ({ workloads: service.read(caller, listWorkloads, undefined) })),
    stopWorkload: unary(async (req, caller) => ({ workload: await service.change(caller, stopWorkload, req) })),
    restartWorkload: unary(async (req, caller) => ({
      workload: await service.change(caller, restartWorkload, req.name),
    })),
    pauseWorkload: unary(async (req, caller) => ({ workload: await service.change(caller, pauseWorkload, req.name) })),
    resumeWorkload: unary(async (req, caller) => ({
      workload: await service.change(caller, resumeWorkload, req.name),
    })),

    logs: streaming(async (call: ServerWritableStream<LogsRequest, LogsResponse>, caller) => {
      const { name, follow, tailBytes } = call.request;
      if (!follow) {
        call.write({ data: await service.read(caller, tailLogs, { name, tailBytes }) });
        call.end();
        return;
      }
      const sink: LogSink = { data: (data) => call.write({ data }), end: () => call.end() };
      const stop = await service.read(caller, followLogs, { name, sink });
      untilCancelled(call, stop);
    }),

    attach(call: ServerDuplexStream<AttachRequest, AttachResponse>) {
      let agentCall: AgentConsole | undefined;
      const early: AttachRequest[] = [];
      const forward = (req: AttachRequest) => {
        if (!agentCall) return void early.push(req);
        if (req.msg?.$case === 'input') agentCall.write({ input: req.msg.value, cols: 0, rows: 0 });
        else if (req.msg?.$case === 'resize')
          agentCall.write({ input: Buffer.alloc(0), cols: req.msg.value.cols, rows: req.msg.value.rows });
      };
      call.once('data', (first: AttachRequest) => {
        streaming(async (_call: typeof call, caller) => {
          if (first.msg?.$case !== 'open')
            throw new YardError('INVALID_ARGUMENT', 'the first attach message must name the workload');
          const { name, size } = first.msg.value;
          const joined = await service.read(caller, attachConsole, {
            name,
            size: { cols: size?.cols ?? 80, rows: size?.rows ?? 24 },
          });
          if (!untilCancelled(call, () => joined.call.end())) return;
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
        })(call);
        call.on('data', forward);
      });
    },

    planMigration: unary((req, caller) => {
      const plan = service.read(caller, planMigration, {
        workload: req.workload,
        target: req.target || undefined,
        strategy: req.strategy || undefined,
      });
      return { workload: plan.workload, targets: plan.targets, preflight: plan.preflight, strategy: plan.strategy };
    }),
    startMigration: unary(async (req, caller) => ({
      migration: await service.change(caller, startMigration, {
        workload: req.workload,
        target: req.target,
        strategy: req.strategy || undefined,
        precopy: req.precopy,
      }),
    })),
    cancelMigration: unary(async (req, caller) => ({
      migration: await service.change(caller, cancelMigration, req.id),
    })),
    listMigrations: unary((_req, caller) => ({ migrations: service.read(caller, listMigrations, undefined) })),
    listAudit: unary((req, caller) => ({ entries: service.read(caller, listAudit, req.limit) })),

    watchMigration: streaming((call: ServerWritableStream<WatchMigrationRequest, WatchMigrationResponse>, caller) => {
      const stop = service.read(caller, watchMigration, {
        id: call.request.id,
        listener: (migration: Migration) => {
          call.write({ migration });
          if (migrationDone(migration.phase)) call.end();
        },
      });
      call.on('cancelled', stop);
    }),
  };
}
