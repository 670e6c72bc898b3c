import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { DEFAULT_SCRAPE_INTERVAL_MS, scrapedServerId } from '../../core/schema/scrape.js';
import type { GpuSample, HostSample } from '../../core/types.js';
import type { ScrapeTarget, ScrapeTargetStatus } from '../../gen/switchyard/v1/control.js';
import type { Registry } from '../registry.js';
import type { StoredServer } from '../store.js';
import { readExposition } from './exposition.js';
import { readGpuExporter } from './gpu-exporter.js';
import { nodeFamily, readNodeExporter, type NodeCounters, type NodeFacts } from './node-exporter.js';
import { fetchPage, PAGE_LIMITS, type PageLimits } from './page.js';

export interface ScraperOptions {
  registry: Registry;
  log: Logger;
  limits?: PageLimits;
  /** Polls in flight at once, all targets together. */
  concurrency?: number;
  now?: () => number;
}

/** Polls at once: enough for hundreds of targets at 5 s (a poll takes milliseconds on a LAN). */
const DEFAULT_CONCURRENCY = 16;
/** How often due targets are looked for. */
const TICK_MS = 250;
/** After a target's first answer, the second comes this soon: rates and CPU % need two. */
const PRIME_MS = 1000;
/** Polls missed in a row before a scraped host is late (degraded), as agents' heartbeats. */
const LATE_AFTER_INTERVALS = 3;

interface Polled {
  target: ScrapeTarget;
  dueMs: number;
  running: boolean;
  counters?: NodeCounters;
  lastOkMs: number;
  lastError: string;
}

/**
 * Polls every scrape target's exporters at its interval, a bounded number at a time, and feeds
 * what they say to the registry as the sample an agent would send: a host with no agent of ours
 * shows like any other, marked scraped.
 */
export class Scraper {
  private readonly polled = new Map<string, Polled>();
  private readonly now: () => number;
  private readonly limits: PageLimits;
  private readonly concurrency: number;
  private running = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: ScraperOptions) {
    this.now = opts.now ?? Date.now;
    this.limits = opts.limits ?? PAGE_LIMITS;
    this.concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts polling a target, or takes its new settings; its host is listed at once (unknown until it answers). */
  set(target: ScrapeTarget): void {
    const known = this.polled.get(target.name);
    if (known && sameTarget(known.target, target)) {
      // Who added it may change (a file's target taken over by hand): polling goes on as it was.
      known.target = target;
      return;
    }
    this.polled.set(target.name, { target, dueMs: this.now(), running: false, lastOkMs: 0, lastError: '' });
    this.opts.registry.restore(serverOf(target, undefined, []));
  }

  /** Stops polling it; the caller forgets its host. */
  delete(name: string): void {
    this.polled.delete(name);
  }

  status(name: string): ScrapeTargetStatus | undefined {
    const p = this.polled.get(name);
    return p && { target: p.target, serverId: scrapedServerId(name), lastOkMs: p.lastOkMs, lastError: p.lastError };
  }

  list(): ScrapeTargetStatus[] {
    return [...this.polled.keys()].sort().map((name) => this.status(name)!);
  }

  private tick(): void {
    const now = this.now();
    for (const p of this.polled.values()) {
      if (this.running >= this.concurrency) return;
      if (p.running || p.dueMs > now) continue;
      p.running = true;
      this.running++;
      void this.poll(p).finally(() => {
        p.running = false;
        this.running--;
      });
    }
  }

  private async poll(p: Polled): Promise<void> {
    const { target } = p;
    const intervalMs = target.intervalMs || DEFAULT_SCRAPE_INTERVAL_MS;
    const id = scrapedServerId(target.name);
    try {
      const [node, gpus] = await Promise.all([fetchPage(target.url, this.limits), this.gpus(target)]);
      const atMs = this.now();
      const families = readExposition(node, target.url, nodeFamily);
      const reading = readNodeExporter(families, target.url, atMs, p.counters);
      if (this.polled.get(target.name) !== p) return;
      p.counters = reading.counters;
      p.dueMs = atMs + (reading.sample ? intervalMs : Math.min(PRIME_MS, intervalMs));
      if (!reading.sample) return;
      const sample: HostSample = { ...reading.sample, gpus: gpus.samples, gpuStatus: gpus.status(atMs) };
      p.lastOkMs = atMs;
      p.lastError = gpus.error;
      this.opts.registry.scraped(
        serverOf(target, reading.facts, gpus.samples),
        sample,
        LATE_AFTER_INTERVALS * intervalMs,
      );
    } catch (err) {
      if (this.polled.get(target.name) !== p) return;
      const message = errorMessage(err);
      if (message !== p.lastError) this.opts.log.warn('scrape failed', { target: target.name, error: message });
      p.lastError = message;
      p.counters = undefined;
      p.dueMs = this.now() + intervalMs;
      this.opts.registry.scrapeFailed(id);
    }
  }

  /** The GPU page, if the target has one: a failing GPU exporter degrades the host, as a failing nvidia-smi does. */
  private async gpus(target: ScrapeTarget) {
    const none = { samples: [] as GpuSample[], error: '', status: (_: number) => undefined };
    if (!target.gpuUrl) return none;
    try {
      const samples = readGpuExporter(
        readExposition(await fetchPage(target.gpuUrl, this.limits), target.gpuUrl),
        target.gpuUrl,
      );
      return { ...none, samples, status: (sinceMs: number) => ({ state: 'ok', sinceMs, message: '' }) };
    } catch (err) {
      const message = errorMessage(err);
      return { ...none, error: message, status: (sinceMs: number) => ({ state: 'failing', sinceMs, message }) };
    }
  }
}

function sameTarget(a: ScrapeTarget, b: ScrapeTarget): boolean {
  return a.url === b.url && a.gpuUrl === b.gpuUrl && a.intervalMs === b.intervalMs;
}

/** A scraped host's server record: what its exporters said of it, or its name and URL alone before they answer. */
function serverOf(target: ScrapeTarget, facts: NodeFacts | undefined, gpus: GpuSample[]): StoredServer {
  return {
    id: scrapedServerId(target.name),
    name: target.name,
    hostname: facts?.hostname ?? '',
    addresses: [new URL(target.url).hostname],
    mac: '',
    labels: {},
    location: '',
    capabilities: {
      gpus: gpus.map((g) => ({ index: g.index, name: g.name, uuid: g.uuid, memoryTotalMib: g.memoryTotalMib })),
      migrationStrategies: [],
      proxy: false,
    },
    host: facts?.host,
    agentVersion: '',
    firstSeenMs: 0,
    lastSeenMs: 0,
    advertiseAddress: '',
    cordoned: false,
    transferAddress: '',
    source: 'scraped',
    scrapeUrl: target.url,
  };
}
