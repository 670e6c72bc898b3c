// A controller's command, checked once where it arrives: ts-proto makes the spec of a start or a
// fetch optional, but neither can be carried out without it, so past this point it is required.
import { YardError } from '../core/errors.js';
import type { WorkloadSpec } from '../core/workload.js';
import type {
  AgentCommand,
  FetchCheckpoint,
  PullCheckpoint,
  StartWorkload,
  SyncState,
} from '../gen/switchyard/v1/agent_gateway.js';

type Action = NonNullable<AgentCommand['action']>;

/** What the controller asks of this agent, with every part the agent needs present. */
type Order =
  | Exclude<Action, { $case: 'start' | 'fetch' | 'pull' | 'syncState' }>
  | { $case: 'start'; value: StartWorkload & { spec: WorkloadSpec } }
  | { $case: 'fetch'; value: FetchCheckpoint & { spec: WorkloadSpec } }
  | { $case: 'pull'; value: PullCheckpoint & { spec: WorkloadSpec } }
  | { $case: 'syncState'; value: SyncState & { spec: WorkloadSpec } };

/** The order a command carries (none for an action this agent does not know); a start, fetch, pull or state sync without its spec is refused. */
export function orderOf(cmd: AgentCommand): Order | undefined {
  const a = cmd.action;
  if (a?.$case !== 'start' && a?.$case !== 'fetch' && a?.$case !== 'pull' && a?.$case !== 'syncState') return a;
  const { spec } = a.value;
  if (!spec)
    throw new YardError(
      'INVALID_ARGUMENT',
      `command ${a.$case} (${cmd.id}) came without the workload's spec, so this agent cannot ${a.$case === 'start' ? 'start it' : 'install its checkpoint'}; the controller sends it with every ${a.$case}: check that controller and agent run the same version`,
    );
  switch (a.$case) {
    case 'start':
      return { $case: 'start', value: { ...a.value, spec } };
    case 'fetch':
      return { $case: 'fetch', value: { ...a.value, spec } };
    case 'pull':
      return { $case: 'pull', value: { ...a.value, spec } };
    case 'syncState':
      return { $case: 'syncState', value: { ...a.value, spec } };
  }
}
