import { YardError, errorMessage } from '../../core/errors.js';

export interface PageLimits {
  /** The whole fetch, connect to last byte. */
  timeoutMs: number;
  /** A bigger page is cut off and refused: a node_exporter page is 50–200 KB. */
  maxBytes: number;
}

/** What a poll may take: a slow or endless page never holds a scrape slot past this. */
export const PAGE_LIMITS: PageLimits = { timeoutMs: 3000, maxBytes: 4 * 1024 * 1024 };

/** One exporter page as text; SCRAPE_FAILED says what went wrong with which URL. */
export async function fetchPage(url: string, limits: PageLimits = PAGE_LIMITS): Promise<string> {
  const failed = (why: string) => new YardError('SCRAPE_FAILED', `${url}: ${why}`, { url });
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'error', headers: { accept: 'text/plain;version=0.0.4' } });
  } catch (err) {
    if (signal.aborted) throw failed(`no answer within ${limits.timeoutMs} ms; check that the exporter runs there`);
    throw failed(`${causeOf(err)}; check that the exporter runs there and the URL is right`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw failed(`HTTP ${res.status} ${res.statusText}; check the URL's path (node_exporter serves /metrics)`);
  }
  try {
    return await readCapped(res, limits.maxBytes);
  } catch (err) {
    if (err instanceof YardError) throw failed(err.message);
    if (signal.aborted) throw failed(`the page did not finish within ${limits.timeoutMs} ms`);
    throw failed(causeOf(err));
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new YardError('SCRAPE_FAILED', `the page is over ${maxBytes} bytes; is this an exporter's /metrics page?`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ENOTFOUND...). */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause ? errorMessage(cause) : errorMessage(err);
}
