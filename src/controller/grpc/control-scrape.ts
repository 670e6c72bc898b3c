import type { ControlServer } from '../../gen/switchyard/v1/control.js';
import { addScrapeTarget, listScrapeTargets, removeScrapeTarget } from '../service/scrape.js';
import type { ControllerService } from '../service/service.js';
import { unary } from './adapt.js';

type ScrapeRpcs = 'addScrapeTarget' | 'listScrapeTargets' | 'removeScrapeTarget';

const EMPTY = { name: '', url: '', gpuUrl: '', intervalMs: 0 };

/** Control: hosts without an agent, polled through their exporters, over the controller service. */
export function scrapeControl(service: ControllerService): Pick<ControlServer, ScrapeRpcs> {
  return {
    addScrapeTarget: unary(async (req, caller) => {
      const { name, url, gpuUrl, intervalMs } = req.target ?? EMPTY;
      return { target: await service.change(caller, addScrapeTarget, { name, url, gpuUrl, intervalMs }) };
    }),
    listScrapeTargets: unary((_req, caller) => ({ targets: service.read(caller, listScrapeTargets, undefined) })),
    removeScrapeTarget: unary(async (req, caller) => ({
      serverId: await service.change(caller, removeScrapeTarget, req.name),
    })),
  };
}
