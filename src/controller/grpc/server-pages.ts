import { YardError } from '../../core/errors.js';
import type { Server } from '../../core/types.js';
import type { ListServersRequest, ListServersResponse } from '../../gen/switchyard/v1/control.js';
import { byName } from '../service/servers.js';

/**
 * The most servers one ListServers answer or one WatchFleet snapshot part carries. A listed
 * server is about 1.4 KB on the wire (a bench host with 8 GPUs), so a page stays near 1.4 MB:
 * well under gRPC's 4 MiB receive limit even for hosts with many labels, and small enough that
 * encoding it holds the event loop for milliseconds, not the hundreds a whole large fleet took.
 */
export const SERVER_PAGE_MAX = 1000;

/** Where the previous page ended: the last server's sort key (name, then id), opaque to clients. */
function tokenOf(server: Server): string {
  return Buffer.from(JSON.stringify([server.name, server.id])).toString('base64url');
}

function afterOf(token: string): Pick<Server, 'name' | 'id'> {
  try {
    const [name, id] = JSON.parse(Buffer.from(token, 'base64url').toString()) as unknown[];
    if (typeof name === 'string' && typeof id === 'string') return { name, id };
  } catch {
    // reported below
  }
  throw new YardError(
    'INVALID_ARGUMENT',
    'the page token is not one ListServers gave: pass the next_page_token of the previous answer, or none for the first page',
  );
}

/** The first index in `sorted` (by name) that comes after `after`. */
function firstAfter(sorted: readonly Server[], after: Pick<Server, 'name' | 'id'>): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byName(sorted[mid] as Server, after) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One page of `sorted` (servers by name). Pages are keyed by the last server's name and id, not
 * by position, so a server joining or leaving between two calls shifts nothing: each server
 * present throughout is listed exactly once.
 */
export function serverPage(sorted: readonly Server[], req: ListServersRequest): ListServersResponse {
  const size = Math.min(req.pageSize || SERVER_PAGE_MAX, SERVER_PAGE_MAX);
  const from = req.pageToken ? firstAfter(sorted, afterOf(req.pageToken)) : 0;
  const servers = sorted.slice(from, from + size);
  const last = servers.at(-1);
  return { servers, nextPageToken: last && from + size < sorted.length ? tokenOf(last) : '' };
}

/** A whole listing as pages, each but the last naming the next (a WatchFleet snapshot's parts). */
export function serverPages(sorted: readonly Server[]): ListServersResponse[] {
  const pages: ListServersResponse[] = [];
  let page = serverPage(sorted, { pageSize: 0, pageToken: '' });
  pages.push(page);
  for (let i = 0; page.nextPageToken && i < sorted.length; i++) {
    page = serverPage(sorted, { pageSize: 0, pageToken: page.nextPageToken });
    pages.push(page);
  }
  return pages;
}
