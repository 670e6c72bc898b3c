import { describe, expect, it } from 'vitest';
import { SERVER_PAGE_MAX, serverPage, serverPages } from '../../src/controller/grpc/server-pages.js';
import { byName } from '../../src/controller/service/servers.js';
import type { Server } from '../../src/core/types.js';

const server = (name: string, id = name): Server => ({ id, name }) as Server;
const fleet = (n: number) =>
  Array.from({ length: n }, (_, i) => server(`host-${String(i).padStart(5, '0')}`)).sort(byName);

describe('ListServers pages', () => {
  it('answers a fleet within one page whole, with no token: what clients before paging expect', () => {
    const page = serverPage(fleet(SERVER_PAGE_MAX), { pageSize: 0, pageToken: '' });
    expect(page.servers).toHaveLength(SERVER_PAGE_MAX);
    expect(page.nextPageToken).toBe('');
  });

  it('walks a large fleet page by page, each server once, and caps the page size', () => {
    const all = fleet(2500);
    const seen: string[] = [];
    let token = '';
    for (let i = 0; i < 10; i++) {
      const page = serverPage(all, { pageSize: 5000, pageToken: token });
      expect(page.servers.length).toBeLessThanOrEqual(SERVER_PAGE_MAX);
      seen.push(...page.servers.map((s) => s.name));
      token = page.nextPageToken;
      if (!token) break;
    }
    expect(seen).toEqual(all.map((s) => s.name));
    expect(serverPages(all).map((p) => p.servers.length)).toEqual([1000, 1000, 500]);
  });

  it('resumes after the last server listed even when servers come and go between pages', () => {
    const all = fleet(10);
    const first = serverPage(all, { pageSize: 4, pageToken: '' });
    // The last server of the first page is removed, and one joins before it.
    const changed = [server('host-00000a'), ...all.filter((s) => s.name !== 'host-00003')].sort(byName);
    const second = serverPage(changed, { pageSize: 4, pageToken: first.nextPageToken });
    expect(second.servers.map((s) => s.name)).toEqual(['host-00004', 'host-00005', 'host-00006', 'host-00007']);
  });

  it('refuses a token it did not give, saying what to pass', () => {
    expect(() => serverPage(fleet(3), { pageSize: 0, pageToken: 'not-a-token' })).toThrow(
      /page token is not one ListServers gave/,
    );
  });
});
