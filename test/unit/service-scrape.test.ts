// The scrape operations through the one door: operator role, audited, kept in the store, and a
// scraped host listed at once (unknown until its exporter answers).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/controller/audit.js';
import { Registry } from '../../src/controller/registry.js';
import { Scraper } from '../../src/controller/scrape/scraper.js';
import { listAudit } from '../../src/controller/service/audit.js';
import type { Caller } from '../../src/controller/service/caller.js';
import type { ServiceParts } from '../../src/controller/service/parts.js';
import { addScrapeTarget, listScrapeTargets, removeScrapeTarget } from '../../src/controller/service/scrape.js';
import { ControllerService } from '../../src/controller/service/service.js';
import { Store } from '../../src/controller/store.js';
import { silentLogger } from '../../src/core/log.js';
import { ServerState } from '../../src/core/types.js';
import { agentHello } from '../helpers/hello.js';

const viewer: Caller = { name: 'vera', via: 'certificate', role: 'viewer' };
const operator: Caller = { name: 'otto', via: 'certificate', role: 'operator' };
const target = { name: 'edge-1', url: 'http://10.0.0.8:9100/metrics', gpuUrl: '', intervalMs: 0 };

async function fixture() {
  const file = join(mkdtempSync(join(tmpdir(), 'yard-scrape-')), 'store.json');
  const store = await Store.open({ file });
  const registry = new Registry({ heartbeatTtlMs: 3000, graceMs: 30_000 });
  // Not started: these tests look at the targets and their hosts, not at polling.
  const scraper = new Scraper({ registry, log: silentLogger });
  const audit = new AuditLog(store, () => undefined);
  const service = new ControllerService({ registry, audit, scrape: { scraper, store } } as unknown as ServiceParts);
  return { file, store, registry, service };
}

describe('scrape targets through the controller service', () => {
  it('adds one for an operator: kept in the store, audited, its host listed as scraped and unknown', async () => {
    const { file, registry, service } = await fixture();
    const status = await service.change(operator, addScrapeTarget, target);
    expect(status).toMatchObject({ serverId: 'scraped:edge-1', lastOkMs: 0, lastError: '' });
    expect(registry.get('edge-1')?.server).toMatchObject({
      id: 'scraped:edge-1',
      source: 'scraped',
      scrapeUrl: target.url,
      state: ServerState.SERVER_STATE_UNKNOWN,
    });
    expect(service.read(viewer, listScrapeTargets, undefined).map((s) => s.target?.name)).toEqual(['edge-1']);
    expect(service.read(viewer, listAudit, 0)[0]).toMatchObject({
      who: 'otto',
      action: 'scrape.add',
      target: 'edge-1 (http://10.0.0.8:9100/metrics)',
      ok: true,
    });
    const reopened = await Store.open({ file });
    expect(reopened.scrapeTargets()).toEqual([{ ...target, addedMs: expect.any(Number), addedBy: 'otto' }]);
  });

  it('refuses a viewer, and records the refusal', async () => {
    const { registry, service } = await fixture();
    await expect(service.change(viewer, addScrapeTarget, target)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(registry.get('edge-1')).toBeUndefined();
    expect(service.read(viewer, listAudit, 0)[0]).toMatchObject({ who: 'vera', action: 'scrape.add', ok: false });
  });

  it("refuses a name an agent's server has", async () => {
    const { registry, service } = await fixture();
    registry.connect(agentHello({ serverId: 'srv-1', name: 'edge-1' }), Symbol('session'));
    await expect(service.change(operator, addScrapeTarget, target)).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
      message: '"edge-1" is already the name of a server with an agent (srv-1): give the scraped host another name',
    });
  });

  it('removes one and forgets its host; an unknown name is NOT_FOUND', async () => {
    const { store, registry, service } = await fixture();
    await service.change(operator, addScrapeTarget, target);
    expect(await service.change(operator, removeScrapeTarget, 'edge-1')).toBe('scraped:edge-1');
    expect(registry.get('scraped:edge-1')).toBeUndefined();
    expect(store.scrapeTargets()).toEqual([]);
    expect(store.server('scraped:edge-1')).toBeUndefined();
    await expect(service.change(operator, removeScrapeTarget, 'edge-1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
