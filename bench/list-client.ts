// A Control API client in its own process (so decoding a big response does not stall the
// simulated agents' event loop): `node dist/bench/list-client.js HOST:PORT CALLS EVERY_MS`.
// Lists every server (all pages) CALLS times, EVERY_MS apart, and prints one JSON line with the timings.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { CLIENT_OPTIONS } from '../src/core/rpc/options.js';
import { ControlClient, ListServersResponse } from '../src/gen/switchyard/v1/control.js';
import { type Server, ServerState } from '../src/gen/switchyard/v1/fleet.js';

export interface ListClientReport {
  ms: number[];
  bytes: number;
  /** Pages the whole listing took (ListServers answers 1000 servers a page). */
  pages?: number;
  listed: number;
  online: number;
  error?: string;
}

const [address, callsArg, everyArg] = process.argv.slice(2);
const calls = Math.min(100, Math.max(1, Number(callsArg) || 1));
const everyMs = Math.min(10_000, Math.max(0, Number(everyArg) || 0));
if (!address || !/^(127\.0\.0\.1:\d+|unix:\/.+)$/.test(address)) {
  process.stderr.write('usage: list-client.js unix:/PATH/control.sock [CALLS] [EVERY_MS]\n');
  process.exit(2);
}

const client = new ControlClient(address, credentials.createInsecure(), CLIENT_OPTIONS);
const report: ListClientReport = { ms: [], bytes: 0, listed: 0, online: 0 };
/** One ListServers page; `yard servers` asks for every page the same way (src/cli/client.ts). */
const page = (pageToken: string) =>
  new Promise<ListServersResponse>((resolve, reject) =>
    client.listServers({ pageSize: 0, pageToken }, new Metadata(), { deadline: Date.now() + 15_000 }, (err, r) =>
      err ? reject(err) : resolve(r),
    ),
  );

/** Every page of the listing (bounded: 10,000 hosts are 10 pages). */
async function listAll(): Promise<{ servers: Server[]; bytes: number; pages: number }> {
  const servers: Server[] = [];
  let bytes = 0;
  let token = '';
  for (let pages = 1; pages <= 100; pages++) {
    const res = await page(token);
    servers.push(...res.servers);
    bytes += ListServersResponse.encode(res).finish().length;
    if (!res.nextPageToken) return { servers, bytes, pages };
    token = res.nextPageToken;
  }
  throw new Error('more than 100 pages of servers');
}

try {
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    try {
      const res = await listAll();
      report.ms.push(performance.now() - started);
      if (i === 0) {
        report.listed = res.servers.length;
        report.online = res.servers.filter((s) => s.state === ServerState.SERVER_STATE_ONLINE).length;
        report.bytes = res.bytes;
        report.pages = res.pages;
      }
    } catch (err) {
      report.error = (err as ServiceError).details || String(err);
      break;
    }
    const rest = everyMs - (performance.now() - started);
    if (i < calls - 1 && rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
} finally {
  client.close();
}
process.stdout.write(JSON.stringify(report) + '\n');
