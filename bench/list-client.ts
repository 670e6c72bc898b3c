// A Control API client in its own process (so decoding a big response does not stall the
// simulated agents' event loop): `node dist/bench/list-client.js HOST:PORT CALLS EVERY_MS`.
// Calls ListServers CALLS times, EVERY_MS apart, and prints one JSON line with the timings.
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { CLIENT_OPTIONS } from '../src/core/rpc/options.js';
import { ControlClient, ListServersResponse } from '../src/gen/switchyard/v1/control.js';
import { ServerState } from '../src/gen/switchyard/v1/fleet.js';

export interface ListClientReport {
  ms: number[];
  bytes: number;
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
try {
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    try {
      const res = await new Promise<ListServersResponse>((resolve, reject) =>
        client.listServers({}, new Metadata(), { deadline: Date.now() + 15_000 }, (err: ServiceError | null, r) =>
          err ? reject(err) : resolve(r),
        ),
      );
      report.ms.push(performance.now() - started);
      if (i === 0) {
        report.listed = res.servers.length;
        report.online = res.servers.filter((s) => s.state === ServerState.SERVER_STATE_ONLINE).length;
        report.bytes = ListServersResponse.encode(res).finish().length;
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
