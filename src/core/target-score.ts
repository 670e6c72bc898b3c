import type { Server } from './types.js';

// How much room a host has for a migrated workload: one function, so the wizard, `yard
// migrate --dry-run` and the controller's choice of target all show and use the same number.

/** What the score means, in the words the wizard's legend and the CLI print. */
export const SCORE_HELP =
  'score: room on the host, 0-100, the mean of its idle CPU %, free memory % and free memory % on its emptiest GPU (if it has GPUs); higher is better';

/** A share in 0-100; an unknown reading (NaN) counts as no room. */
const clamp = (pct: number): number => (Number.isFinite(pct) ? Math.min(100, Math.max(0, pct)) : 0);

/**
 * 0-100: the mean of idle CPU, free memory and (on a GPU host) free memory on its emptiest GPU,
 * each in percent. A host that has not reported counts as full, so it never ranks first.
 */
export function targetScore(server: Server): number {
  const l = server.latest;
  if (!l) return 0;
  const parts = [
    100 - (l.cpuPct ?? 100),
    l.memoryTotalBytes > 0 ? (1 - l.memoryUsedBytes / l.memoryTotalBytes) * 100 : 0,
  ];
  const gpuFree = l.gpus.flatMap((g) =>
    g.memoryTotalMib !== undefined && g.memoryTotalMib > 0
      ? [(1 - (g.memoryUsedMib ?? 0) / g.memoryTotalMib) * 100]
      : [],
  );
  if (gpuFree.length > 0) parts.push(Math.max(...gpuFree));
  return Math.round(parts.reduce((n, p) => n + clamp(p), 0) / parts.length);
}
