import { YardError } from '../../core/errors.js';
import { parseScrapeTarget, scrapedServerId, type ScrapeTargetInput } from '../../core/schema/scrape.js';
import type { ScrapeTargetStatus } from '../../gen/switchyard/v1/control.js';
import { change, changeOne, readAll } from './operation.js';

/** Starts polling a host's exporters (or changes how); its host shows in the fleet, marked scraped. */
export const addScrapeTarget = change({
  name: 'scrape.add',
  role: 'operator',
  validate: (input: ScrapeTargetInput) => parseScrapeTarget(input),
  target: ({ name, url }: ScrapeTargetInput) => `${name} (${url})`,
  act: async (input, { parts, caller }): Promise<ScrapeTargetStatus> => {
    const { scraper, store } = parts.scrape;
    const taken = parts.registry.get(input.name)?.server;
    if (taken && taken.source !== 'scraped')
      throw new YardError(
        'ALREADY_EXISTS',
        `"${input.name}" is already the name of a server with an agent (${taken.id}): give the scraped host another name`,
        { server: taken.id },
      );
    const target = { ...input, addedMs: Date.now(), addedBy: caller.name };
    store.putScrapeTarget(target);
    await store.flush();
    scraper.set(target);
    return scraper.status(target.name)!;
  },
});

export const listScrapeTargets = readAll('scrape.list', ({ parts }) => parts.scrape.scraper.list());

/** Stops polling a target and forgets its host. */
export const removeScrapeTarget = changeOne('scrape.remove', async (name, { parts }) => {
  const { scraper, store } = parts.scrape;
  if (!store.scrapeTarget(name))
    throw new YardError('NOT_FOUND', `no scrape target "${name}": \`yard scrape list\` lists them`, { name });
  const id = scrapedServerId(name);
  scraper.delete(name);
  parts.registry.remove(id);
  store.removeScrapeTarget(name);
  store.removeServer(id);
  await store.flush();
  return id;
});
