import { migrationDone, type Migration, type MigrationStrategy } from '../../core/workload.js';
import { change, changeOne, read, readAll } from './operation.js';
import { nameOf } from './servers.js';

/** Ranks the targets of a workload's move, and checks the one given (if any). */
export const planMigration = read({
  name: 'migration.plan',
  role: 'viewer',
  act: (
    { workload, target, strategy }: { workload: string; target?: string; strategy?: MigrationStrategy },
    { parts },
  ) => parts.coordinator.plan(workload, target, strategy),
});

/** Checks and starts a migration; it runs on in the background. */
export const startMigration = change({
  name: 'migration.start',
  role: 'operator',
  target: (
    { workload, target }: { workload: string; target: string; strategy?: MigrationStrategy; precopy?: boolean },
    { parts },
  ) => `${workload} → ${nameOf(parts, target)}`,
  act: ({ workload, target, strategy, precopy }, { parts, caller }) =>
    parts.coordinator.start(workload, target, strategy, caller.name, { precopy }),
});

export const cancelMigration = changeOne('migration.cancel', (id, { parts }) => parts.coordinator.cancel(id));

/** Live migrations and recent history, newest first. */
export const listMigrations = readAll('migration.list', ({ parts }) => parts.coordinator.list());

/**
 * Tells `listener` the migration (by id or id prefix) now and at each change, until it ends or
 * the returned function is called; NOT_FOUND when there is none.
 */
export const watchMigration = read({
  name: 'migration.get',
  role: 'viewer',
  act: ({ id, listener }: { id: string; listener: (m: Migration) => void }, { parts }) => {
    const { coordinator } = parts;
    const first = coordinator.get(id);
    const onChange = (m: Migration) => {
      if (m.id !== first.id) return;
      listener(m);
      if (migrationDone(m.phase)) stop();
    };
    const stop = () => coordinator.off('migration', onChange);
    coordinator.on('migration', onChange);
    onChange(first);
    return stop;
  },
});
