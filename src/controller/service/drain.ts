import { YardError } from '../../core/errors.js';
import { drainDone, type Drain } from '../../core/drain.js';
import type { Server } from '../../core/types.js';
import { DRAIN_DEADLINE_MS, DRAIN_PARALLEL } from '../drain/drainer.js';
import { change, read, type Context } from './operation.js';
import { nameOf, serverNamed } from './servers.js';

/** The longest drain deadline accepted: a day. */
const MAX_DEADLINE_MS = 24 * 3600_000;
/** The most workloads moved at once by one drain. */
const MAX_PARALLEL = 32;

/** A change to one server, named by id or name; the audit line names the server. */
function serverChange<Out>(name: string, act: (server: string, ctx: Context) => Out) {
  return change({
    name,
    role: 'operator',
    validate: (server: string) => server.trim(),
    target: (server: string, { parts }) => nameOf(parts, server),
    act,
  });
}

/** No new work lands on the host; what runs there stays. */
export const cordonServer = serverChange('server.cordon', (server, { parts }) => parts.drainer.cordon(server, true));

/** The host takes new work again. */
export const uncordonServer = serverChange('server.uncordon', (server, { parts }) =>
  parts.drainer.cordon(server, false),
);

interface DrainInput {
  server: string;
  deadlineMs: number;
  parallel: number;
}

/** Cordons the host and starts moving its workloads off; the drain runs on in the controller. */
export const drainServer = change({
  name: 'server.drain',
  role: 'operator',
  validate: (input: DrainInput): DrainInput => {
    const deadlineMs = input.deadlineMs || DRAIN_DEADLINE_MS;
    const parallel = input.parallel || DRAIN_PARALLEL;
    if (deadlineMs < 1000 || deadlineMs > MAX_DEADLINE_MS)
      throw new YardError('INVALID_ARGUMENT', `the drain deadline must be between 1s and 24h, not ${deadlineMs} ms`, {
        field: 'deadline_ms',
      });
    if (parallel > MAX_PARALLEL)
      throw new YardError(
        'INVALID_ARGUMENT',
        `a drain moves at most ${MAX_PARALLEL} workloads at once, not ${parallel}`,
        {
          field: 'parallel',
        },
      );
    return { server: input.server.trim(), deadlineMs, parallel };
  },
  target: ({ server }: DrainInput, { parts }) => nameOf(parts, server),
  act: ({ server, deadlineMs, parallel }: DrainInput, { parts, caller }): Drain =>
    parts.drainer.drain(server, caller.name, deadlineMs, parallel),
});

/** Tells `listener` the host and its drain now and at each change, until the drain ends or the returned function is called. */
export const watchDrain = read({
  name: 'server.get',
  role: 'viewer',
  act: ({ server, listener }: { server: string; listener: (s: Server) => void }, { parts }) => {
    const id = serverNamed(parts, server).server.id;
    const onChange = (s: Server) => {
      if (s.id !== id) return;
      listener(s);
      if (!s.drain || drainDone(s.drain)) stop();
    };
    const stop = () => parts.registry.off('server', onChange);
    parts.registry.on('server', onChange);
    onChange(serverNamed(parts, id).server);
    return stop;
  },
});
