import { z } from 'zod';
import { YardError } from '../errors.js';
import { describeIssue } from '../validate.js';

// A scrape target: a host without an agent, seen through its Prometheus exporters (issue 15).

/** How often a target is polled unless it says otherwise. */
export const DEFAULT_SCRAPE_INTERVAL_MS = 5000;
/** Polling faster than this costs more than the dashboards show; slower than this is not live. */
const MIN_SCRAPE_INTERVAL_MS = 1000;
const MAX_SCRAPE_INTERVAL_MS = 300_000;

/** A scraped host's server id: its name, marked so it can never be an agent's id. */
export const scrapedServerId = (name: string) => `scraped:${name}`;

const scrapeNameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may only hold letters, digits and . _ - (starting with a letter or digit)');

/** Only plain HTTP(S) pages with a host: the controller fetches them, so nothing else is dialled. */
const pageUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a URL: give e.g. http://10.0.0.5:9100/metrics` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    ctx.addIssue({ code: 'custom', message: `"${text}" must be an http:// or https:// URL` });
  else if (url.username || url.password)
    ctx.addIssue({
      code: 'custom',
      message: `"${url.host}": credentials in the URL are not kept; expose the page without them`,
    });
});

export interface ScrapeTargetInput {
  name: string;
  url: string;
  gpuUrl: string;
  intervalMs: number;
}

export const scrapeTargetSchema = z.strictObject({
  name: scrapeNameSchema,
  url: pageUrl,
  gpuUrl: z.union([z.literal(''), pageUrl]).default(''),
  intervalMs: z
    .number()
    .int()
    .refine((ms) => ms === 0 || (ms >= MIN_SCRAPE_INTERVAL_MS && ms <= MAX_SCRAPE_INTERVAL_MS), {
      message: `must be between ${MIN_SCRAPE_INTERVAL_MS / 1000} s and ${MAX_SCRAPE_INTERVAL_MS / 1000} s`,
    })
    .default(0),
});

/** A target as an operator gave it, checked; INVALID_ARGUMENT names the field. */
export function parseScrapeTarget(input: ScrapeTargetInput): ScrapeTargetInput {
  const r = scrapeTargetSchema.safeParse(input);
  if (r.success) return r.data;
  const { field, message } = describeIssue(r.error);
  throw new YardError('INVALID_ARGUMENT', `scrape target ${field}: ${message}`, { field });
}
