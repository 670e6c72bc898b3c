// A scraped host (no agent of ours) is never a migration target, and preflight says why.
import { describe, expect, it } from 'vitest';
import type { PlacedWorkload } from '../../src/controller/migration/placed.js';
import { preflight } from '../../src/controller/migration/preflight.js';
import { Server, ServerState } from '../../src/gen/switchyard/v1/fleet.js';
import { MigrationStrategy, Workload } from '../../src/gen/switchyard/v1/workload.js';

const online = (name: string, more: Partial<Server> = {}) =>
  Server.fromPartial({
    id: `id-${name}`,
    name,
    state: ServerState.SERVER_STATE_ONLINE,
    capabilities: { migrationStrategies: ['checkpoint', 'restart', 'freeze'] },
    latest: { cpuPct: 5, dataFreeBytes: 100 * 2 ** 30 },
    ...more,
  });

describe('preflight: a scraped target', () => {
  const workload = Workload.fromPartial({ spec: { name: 'train' }, serverId: 'id-a', state: 1 }) as PlacedWorkload;
  const check = (target: Server) =>
    preflight({
      workload,
      source: online('a'),
      target,
      targetName: target.name,
      strategy: MigrationStrategy.MIGRATION_STRATEGY_RESTART,
      cpuLimitPct: 90,
    });

  it('fails, saying it is a scraped host that runs nothing', () => {
    const checks = check(
      online('edge-1', { id: 'scraped:edge-1', source: 'scraped', scrapeUrl: 'http://h:9100/metrics' }),
    );
    expect(checks.filter((c) => !c.ok)).toEqual([
      {
        name: 'target-agent',
        ok: false,
        reason:
          'edge-1 is a scraped host (the controller only reads its exporters; no agent of ours runs there): it cannot run workloads; run `yard agent` there to use it for workloads',
      },
    ]);
  });

  it('passes the same host with an agent', () => {
    expect(check(online('edge-1', { source: 'agent' })).every((c) => c.ok)).toBe(true);
  });
});
