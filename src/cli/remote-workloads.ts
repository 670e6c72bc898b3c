import type { ServiceError } from '@grpc/grpc-js';
import type { WorkloadActions } from '../core/fleet.js';
import type { Workload } from '../core/workload.js';
import type { LogsResponse } from '../gen/switchyard/v1/control.js';
import { explain, type controlClient, type ControllerTarget } from './client.js';
import { answeredWorkload } from './replies.js';

type Control = ReturnType<typeof controlClient>;

export interface RemoteWorkloadDeps {
  /** The channel in use now (a reconnect replaces it). */
  control(): Control;
  target: ControllerTarget;
}

/** Workload actions as Control calls: stop, restart and remove are unary, logs a followed stream. */
export function remoteWorkloadActions(deps: RemoteWorkloadDeps): WorkloadActions {
  const { target } = deps;
  const answered = (res: { workload?: Workload }, what: string) => answeredWorkload(target, res, what);
  return {
    stopWorkload: async (name) => {
      const c = deps.control();
      return answered(await c.call(c.client.stopWorkload, { name, remove: false }), `stopped ${name}`);
    },
    restartWorkload: async (name) => {
      const c = deps.control();
      return answered(await c.call(c.client.restartWorkload, { name }), `restarted ${name}`);
    },
    removeWorkload: async (name) => {
      const c = deps.control();
      return answered(await c.call(c.client.stopWorkload, { name, remove: true }), `removed ${name}`);
    },
    followLogs: (name, sink) => {
      const c = deps.control();
      const stream = c.client.logs({ name, follow: true, tailBytes: 0 }, c.metadata);
      let open = true;
      const end = (err?: Error) => {
        if (!open) return;
        open = false;
        sink.end(err);
      };
      stream.on('data', (res: LogsResponse) => open && res.data.length > 0 && sink.data(Buffer.from(res.data)));
      stream.on('error', (err: ServiceError) => end(explain(err, target)));
      stream.on('end', () => end());
      return () => {
        open = false;
        stream.cancel();
      };
    },
  };
}
