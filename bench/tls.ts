// What TLS costs: the same simulated fleet (1,000 agents at 1 Hz by default) against a controller
// that speaks mTLS, then against one started with `benchmarkPlaintext` (its TCP listener in
// plaintext, agents admitted as the id their hello claims): one after the other, never both at
// once, each in its own process (controller-proc.js, the same script for both). Same hosts, same
// heartbeat rate, same ramp, same steady window. Before the ramp, a sample of sessions dial one at
// a time (connection set-up on a quiet controller), and on the mTLS side a sample of agents join
// with the real Join RPC, one at a time, to time what joining costs an agent once.
import { credentials, Metadata } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { controllerFiles } from '../src/core/paths.js';
import { parseJoinToken, pinMatches } from '../src/core/pki/join-token.js';
import { keyRequest } from '../src/core/pki/key-request.js';
import { newKeyPair, privateKeyPem } from '../src/core/pki/x509.js';
import { CLIENT_OPTIONS } from '../src/core/rpc/options.js';
import { AgentGatewayClient, type JoinResponse } from '../src/gen/switchyard/v1/agent_gateway.js';
import type { ControllerProcArgs } from './controller-proc.js';
import { runFleetSim, SimCredentials, timeDials, type FleetSimResult } from './fleet-sim.js';
import { fakeHosts, type FakeHost } from './hosts.js';
import { freePort, summarize, tempDir, YardProcess, type Summary } from './lib.js';

const CONTROLLER_PROC = resolve(import.meta.dirname, 'controller-proc.js');

export interface TlsBenchOptions {
  agents: number;
  /** Steady window of each side. */
  seconds: number;
  /**
   * Agents that join with the Join RPC (mTLS side), and sessions that dial one at a time (each
   * side), before the ramp.
   */
  sample: number;
  log: (line: string) => void;
}

export interface TlsSide {
  sim: FleetSimResult;
  /** Dial to welcome, one session at a time on the quiet controller. */
  alone: { dialToWelcome: Summary; failed: number };
  controllerWarnings: number;
  lastWarnings: string[];
}

export interface JoinTimes {
  /** Key pair, certificate request and the Join call (a new channel: connect, TLS handshake, round trip). */
  total: Summary;
  /** Key pair and certificate request only. */
  keyAndCsr: Summary;
  /** The Join call only. */
  rpc: Summary;
  failed: number;
  firstError?: string;
}

export interface TlsBenchResult {
  agents: number;
  heartbeatMs: number;
  mtls: TlsSide;
  plaintext: TlsSide;
  /** Minting the fleet's keys and certificates from the CA (before the ramp). */
  mintMs: number;
  mintBatch: number;
  joins: JoinTimes;
}

const HEARTBEAT_MS = 1000;
const MINT_BATCH = 100;

export async function runTlsBench(opts: TlsBenchOptions): Promise<TlsBenchResult> {
  const hosts = fakeHosts(opts.agents);
  let mintMs = Number.NaN;
  let joins: JoinTimes | undefined;
  const mtls = await runSide('tls', hosts, opts, async (ctlDir, address) => {
    joins = await timeJoins(address, ctlDir, opts.sample, opts.log);
    const creds = await SimCredentials.mint(ctlDir, hosts, MINT_BATCH);
    mintMs = creds.mintMs;
    opts.log(
      `  ${hosts.length} agent certificates minted in ${(mintMs / 1000).toFixed(2)} s (batches of ${MINT_BATCH})`,
    );
    return creds;
  });
  const plaintext = await runSide('plaintext', hosts, opts, async () => SimCredentials.plaintext());
  return {
    agents: opts.agents,
    heartbeatMs: HEARTBEAT_MS,
    mtls,
    plaintext,
    mintMs,
    mintBatch: MINT_BATCH,
    joins: joins!,
  };
}

/** One side: its controller in its own process, the fleet's ramp and steady window, the controller stopped. */
async function runSide(
  mode: ControllerProcArgs[4],
  hosts: readonly FakeHost[],
  opts: TlsBenchOptions,
  prepare: (ctlDir: string, address: string) => Promise<SimCredentials>,
): Promise<TlsSide> {
  const ctlDir = tempDir(`yard-bench-${mode}-`);
  const address = `127.0.0.1:${await freePort()}`;
  const args: ControllerProcArgs = [ctlDir, address, String(HEARTBEAT_MS), '30000', mode];
  const proc = new YardProcess(`controller (${mode})`, args, CONTROLLER_PROC);
  try {
    await proc.waitForOutput(/controller listening/, 20_000);
    opts.log(`  ${mode}: controller pid ${proc.pid} on ${address}`);
    const creds = await prepare(ctlDir, address);
    opts.log(`  ${opts.sample} sessions dial one at a time…`);
    const alone = await timeDials(address, creds, hosts.slice(0, opts.sample + 1), opts.log);
    const sim = await runFleetSim({
      address,
      credentials: creds,
      control: `unix:${controllerFiles(ctlDir).socket}`,
      controllerPid: proc.pid,
      hosts,
      seconds: opts.seconds,
      log: opts.log,
    });
    return { sim, alone, controllerWarnings: proc.warnings, lastWarnings: [...proc.lastWarnings] };
  } finally {
    await proc.kill();
  }
}

/**
 * `n` agents join one after the other, as a new agent does: the join token read from the
 * controller's data dir (its secret, and its pin checked against the CA the agent is given, as
 * src/agent/tls.ts does), a new key pair, a certificate request, and the Join call on a channel
 * of its own that trusts that CA. Each gets a server id of its own (not the fleet's).
 */
async function timeJoins(address: string, ctlDir: string, n: number, log: (line: string) => void): Promise<JoinTimes> {
  const files = controllerFiles(ctlDir);
  const token = parseJoinToken(readFileSync(files.joinToken, 'utf8'));
  const caPem = readFileSync(files.caCert, 'utf8');
  if (!pinMatches(token, caPem))
    throw new Error(`the join token in ${files.joinToken} does not pin the CA in ${ctlDir}`);
  const total: number[] = [];
  const keyAndCsr: number[] = [];
  const rpc: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  log(`  ${n} agents join with the Join RPC, one at a time…`);
  // The first join warms both ends up and is not counted.
  for (let i = 0; i <= n; i++) {
    const id = `bench-join-${String(i).padStart(4, '0')}`;
    const t0 = performance.now();
    const keys = await newKeyPair();
    await privateKeyPem(keys.privateKey);
    const certificateRequest = await keyRequest(keys);
    const t1 = performance.now();
    const client = new AgentGatewayClient(address, credentials.createSsl(Buffer.from(caPem)), {
      ...CLIENT_OPTIONS,
      'grpc.use_local_subchannel_pool': 1,
    });
    try {
      const res = await new Promise<JoinResponse>((ok, fail) =>
        client.join(
          { joinSecret: token.secret, serverId: id, certificateRequest, hostname: `join-node-${i}`, name: '' },
          new Metadata(),
          { deadline: Date.now() + 15_000 },
          (err, r) => (err ? fail(err) : ok(r)),
        ),
      );
      const t2 = performance.now();
      if (!res.certificate.includes('BEGIN CERTIFICATE')) throw new Error(`Join for ${id} returned no certificate`);
      if (i === 0) continue;
      total.push(t2 - t0);
      keyAndCsr.push(t1 - t0);
      rpc.push(t2 - t1);
    } catch (err) {
      failed++;
      firstError ??= err instanceof Error ? err.message : String(err);
    } finally {
      client.close();
    }
  }
  if (failed) log(`  ${failed}/${n} joins failed; the first: ${firstError}`);
  return { total: summarize(total), keyAndCsr: summarize(keyAndCsr), rpc: summarize(rpc), failed, firstError };
}
