import { scrapedServerId, type ScrapeTargetInput } from '../../core/schema/scrape.js';
import type { Registry } from '../registry.js';
import type { Store } from '../store.js';

/** Who added a target that came from the scrape file, as `yard scrape list` and the audit say it. */
const byFile = (file: string) => `scrape file ${file}`;

/**
 * Makes the store's targets match the scrape file: its targets are put (replacing one of the same
 * name added by hand), and those it added before and no longer names are forgotten with their hosts.
 */
export function controlScrapeFile(
  store: Pick<Store, 'scrapeTargets' | 'putScrapeTarget' | 'removeScrapeTarget' | 'removeServer'>,
  registry: Pick<Registry, 'remove'>,
  { file, targets }: { file: string; targets: ScrapeTargetInput[] },
  nowMs = Date.now(),
): void {
  const named = new Set(targets.map((t) => t.name));
  for (const old of store.scrapeTargets())
    if (old.addedBy === byFile(file) && !named.has(old.name)) {
      store.removeScrapeTarget(old.name);
      store.removeServer(scrapedServerId(old.name));
      registry.remove(scrapedServerId(old.name));
    }
  const kept = new Map(store.scrapeTargets().map((t) => [t.name, t]));
  for (const t of targets) {
    const had = kept.get(t.name);
    const same = had && had.url === t.url && had.gpuUrl === t.gpuUrl && had.intervalMs === t.intervalMs;
    if (!same) store.putScrapeTarget({ ...t, addedMs: nowMs, addedBy: byFile(file) });
  }
}
