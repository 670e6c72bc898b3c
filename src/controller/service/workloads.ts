import { unschedulable } from '../../core/drain.js';
import { YardError } from '../../core/errors.js';
import type { LogSink } from '../../core/fleet.js';
import type { WorkloadSpec } from '../../core/workload.js';
import { WorkloadSignal } from '../../gen/switchyard/v1/agent_gateway.js';
import { parseWorkloadSpec } from '../../core/schema/workload-spec.js';
import { change, changeOne, read, readAll } from './operation.js';
import { agentServer, nameOf } from './servers.js';

/** Starts a workload on a server (by id or name). */
export const runWorkload = change({
  name: 'workload.run',
  role: 'operator',
  validate: ({ server, spec }: { server: string; spec?: WorkloadSpec }) => ({ server, spec: parseWorkloadSpec(spec) }),
  target: ({ server, spec }, { parts }) => `${spec.name} on ${nameOf(parts, server)}`,
  act: ({ server, spec }, { parts }) => {
    const on = agentServer(parts, server).server;
    if (on.cordoned)
      throw new YardError('FAILED_PRECONDITION', `${unschedulable(on)}; pick another --on`, { server: on.id });
    return parts.workloadCommands.run(on.id, spec);
  },
});

export const listWorkloads = readAll('workload.list', ({ parts }) => parts.workloads.list());

/** Stops a workload; `remove` forgets it on its server too, state directory and all. */
export const stopWorkload = change({
  name: 'workload.stop',
  role: 'operator',
  target: ({ name, remove }: { name: string; remove: boolean }) => (remove ? `${name} (and remove)` : name),
  act: ({ name, remove }, { parts }) => parts.workloadCommands.stop(name, remove),
});

export const restartWorkload = changeOne('workload.restart', (name, { parts }) => parts.workloadCommands.restart(name));
export const pauseWorkload = changeOne('workload.pause', (name, { parts }) =>
  parts.workloadCommands.signal(name, WorkloadSignal.WORKLOAD_SIGNAL_PAUSE),
);
export const resumeWorkload = changeOne('workload.resume', (name, { parts }) =>
  parts.workloadCommands.signal(name, WorkloadSignal.WORKLOAD_SIGNAL_RESUME),
);

/** The last `tailBytes` of a workload's output (0: all its agent keeps). */
export const tailLogs = read({
  name: 'workload.logs',
  role: 'viewer',
  act: ({ name, tailBytes }: { name: string; tailBytes: number }, { parts }) =>
    parts.workloadCommands.tail(name, tailBytes),
});

/** Streams a workload's output into `sink` until its console closes; resolves with the function that stops it. */
export const followLogs = read({
  name: 'workload.logs',
  role: 'viewer',
  act: ({ name, sink }: { name: string; sink: LogSink }, { parts }) => parts.workloadCommands.follow(name, sink),
});

/**
 * An interactive console on the workload. Not audited, as before: what is typed there is the
 * workload's business; the operator role guards it since keystrokes reach the process.
 */
export const attachConsole = read({
  name: 'workload.attach',
  role: 'operator',
  act: ({ name, size }: { name: string; size: { cols: number; rows: number } }, { parts }) =>
    parts.workloadCommands.console(name, true, size),
});
