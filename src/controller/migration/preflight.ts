import type { TargetFit } from '../../core/fleet.js';
import { bytesText } from '../../core/format/bytes.js';
import { targetScore } from '../../core/target-score.js';
import { unschedulable } from '../../core/drain.js';
import type { Server } from '../../core/types.js';
import { MigrationStrategy, strategies, type PreflightCheck } from '../../core/workload.js';
import type { Registry } from '../registry.js';
import type { PlacedWorkload } from './placed.js';

/** Below this much free disk on the target, no checkpoint is attempted whatever its size. */
const MIN_FREE_BYTES = 64 * 1024 * 1024;

export interface PreflightInput {
  workload: PlacedWorkload;
  source: Server;
  target: Server | undefined;
  targetName: string;
  strategy: MigrationStrategy;
  /** Another migration of this workload that has not finished. */
  inFlight?: string;
  /** A target busier than this (CPU %) has no headroom. */
  cpuLimitPct: number;
}

/** Why a scraped host (no agent of ours) takes no workload, and what to do instead. */
export const scrapedRunsNothing = (name: string) =>
  `${name} is a scraped host (the controller only reads its exporters; no agent of ours runs there): it cannot run workloads; run \`yard agent\` there to use it for workloads`;

const check = (name: string, ok: boolean, reason: string): PreflightCheck => ({ name, ok, reason });

function gpuFreeMib(s: Server): number | undefined {
  const gpus = s.latest?.gpus ?? [];
  if (gpus.length === 0) return undefined;
  return Math.max(...gpus.map((g) => (g.memoryTotalMib ?? 0) - (g.memoryUsedMib ?? 0)));
}

/** Each check with a pass/fail and a reason an operator can act on. */
export function preflight(p: PreflightInput): PreflightCheck[] {
  const { workload, target, strategy } = p;
  const name = strategies.name(strategy);
  const checks: PreflightCheck[] = [];
  checks.push(
    p.inFlight
      ? check('exclusive', false, `migration ${p.inFlight} of ${workload.spec.name} is still in flight`)
      : check('exclusive', true, 'no other migration of this workload'),
  );
  if (!target) return [...checks, check('target-online', false, `no server "${p.targetName}"`)];
  if (target.id === p.source.id)
    return [...checks, check('target-online', false, `${target.name} already runs ${workload.spec.name}`)];
  if (target.source === 'scraped') return [...checks, check('target-agent', false, scrapedRunsNothing(target.name))];
  const refused = unschedulable(target);
  checks.push(check('target-online', !refused, refused ?? `${target.name} is online`));
  const supported = target.capabilities?.migrationStrategies.includes(name) ?? false;
  checks.push(
    check(
      'strategy',
      supported,
      supported ? `${target.name} supports ${name}` : `${target.name}'s agent does not support ${name}`,
    ),
  );

  const free = target.latest?.dataFreeBytes;
  // What its state dir holds, as its agent last measured it (a move stages or unpacks that much on
  // the target), with a margin; before the first measure, its memory stands in for its state.
  const need = Math.max(
    MIN_FREE_BYTES,
    workload.stateBytes !== undefined ? workload.stateBytes * 1.1 : (workload.rssBytes ?? 0) * 1.2,
  );
  if (strategy === MigrationStrategy.MIGRATION_STRATEGY_RESTART)
    checks.push(check('disk', true, 'restart moves no state'));
  else if (free === undefined) checks.push(check('disk', false, `${target.name} has not reported its free disk yet`));
  else checks.push(check('disk', free >= need, `${bytesText(free)} free on ${target.name}, ${bytesText(need)} needed`));

  const wantGpu = workload.gpuMemoryMib;
  if (!wantGpu) checks.push(check('gpu-memory', true, 'the workload uses no GPU memory'));
  else {
    const freeGpu = gpuFreeMib(target);
    checks.push(
      check(
        'gpu-memory',
        (freeGpu ?? 0) >= wantGpu,
        freeGpu === undefined
          ? `${target.name} has no GPU`
          : `${Math.round(freeGpu)} MiB free on its emptiest GPU, ${Math.round(wantGpu)} MiB needed`,
      ),
    );
  }
  const cpu = target.latest?.cpuPct;
  checks.push(
    check(
      'cpu',
      cpu !== undefined && cpu <= p.cpuLimitPct,
      cpu === undefined
        ? `${target.name} has not reported CPU yet`
        : `${target.name} CPU at ${cpu.toFixed(0)}% (limit ${p.cpuLimitPct}%)`,
    ),
  );
  return checks;
}

/** Every other server, ranked by score (see targetScore); ineligible ones carry the reasons their checks failed. */
export function rankTargets(
  registry: Registry,
  workload: PlacedWorkload,
  source: Server,
  strategy: MigrationStrategy,
  cpuLimitPct: number,
  inFlight?: string,
): TargetFit[] {
  return registry
    .list()
    .map((r) => r.server)
    .filter((s) => s.id !== source.id)
    .map((s): TargetFit => {
      const checks = preflight({ workload, source, target: s, targetName: s.name, strategy, inFlight, cpuLimitPct });
      const failed = checks.filter((c) => !c.ok);
      return {
        serverId: s.id,
        name: s.name,
        eligible: failed.length === 0,
        score: failed.length ? 0 : targetScore(s),
        reasons: failed.map((c) => c.reason),
      };
    })
    .sort((a, b) => Number(b.eligible) - Number(a.eligible) || b.score - a.score || a.name.localeCompare(b.name));
}
