import { YardError } from '../../core/errors.js';
import type { Workload, WorkloadSpec } from '../../core/workload.js';

/** A workload where an agent runs it, with the spec every report carries: checked once, here. */
export type PlacedWorkload = Workload & { spec: WorkloadSpec };

/** Where a workload enters the coordinator (the workload table): its spec is required from here on. */
export function placed(w: Workload): PlacedWorkload {
  const { spec } = w;
  if (!spec) throw new YardError('INTERNAL', `server ${w.serverId} reported a workload without its spec`);
  return { ...w, spec };
}
