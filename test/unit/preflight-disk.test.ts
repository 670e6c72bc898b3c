// Preflight's disk check weighs a move by what the workload's state dir holds (its agent measures
// it), not by its memory: a 2 GiB state with 50 MiB of RSS needs 2 GiB free on the target.
import { describe, expect, it } from 'vitest';
import { preflight } from '../../src/controller/migration/preflight.js';
import type { PlacedWorkload } from '../../src/controller/migration/placed.js';
import { MigrationStrategy, Workload } from '../../src/gen/switchyard/v1/workload.js';
import { Server, ServerState } from '../../src/gen/switchyard/v1/fleet.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

function server(name: string, freeBytes: number): Server {
  return Server.fromPartial({
    id: `id-${name}`,
    name,
    state: ServerState.SERVER_STATE_ONLINE,
    capabilities: { migrationStrategies: ['checkpoint', 'restart', 'freeze'] },
    latest: { cpuPct: 5, dataFreeBytes: freeBytes },
  });
}

function disk(w: Partial<Workload>, freeBytes: number) {
  const workload = Workload.fromPartial({
    spec: { name: 'train' },
    serverId: 'id-a',
    state: 1,
    rssBytes: 50 * MiB,
    ...w,
  }) as PlacedWorkload;
  const checks = preflight({
    workload,
    source: server('a', 100 * GiB),
    target: server('b', freeBytes),
    targetName: 'b',
    strategy: MigrationStrategy.MIGRATION_STRATEGY_CHECKPOINT,
    cpuLimitPct: 90,
  });
  return checks.find((c) => c.name === 'disk')!;
}

describe('preflight: free disk on the target', () => {
  it('needs what the state dir holds (with a margin), whatever the memory', () => {
    const refused = disk({ stateBytes: 2 * GiB }, 1 * GiB);
    expect(refused.ok).toBe(false);
    expect(refused.reason).toMatch(/1\.0 GiB free on b, 2\.2 GiB needed/);
    expect(disk({ stateBytes: 2 * GiB }, 3 * GiB).ok).toBe(true);
  });

  it('falls back to the memory before the agent has measured the state dir', () => {
    expect(disk({ rssBytes: 2 * GiB }, 1 * GiB).ok).toBe(false);
    expect(disk({}, 1 * GiB).ok).toBe(true);
  });
});
