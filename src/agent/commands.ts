import { Metadata } from '@grpc/grpc-js';
import { createReadStream } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { YardError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { CLIENT_OPTIONS } from '../core/rpc/options.js';
import {
  AgentGatewayClient,
  WorkloadSignal,
  type AgentCommand,
  type CommandResult,
  type ConsoleResponse,
  type OpenConsole,
  type PullCheckpoint,
} from '../gen/switchyard/v1/agent_gateway.js';
import type { AgentIdentity } from './identity.js';
import type { PackResult } from './checkpoint/archive.js';
import { type PackingStream, packToStream } from './checkpoint/pack-stream.js';
import { ResumableReceiver } from './checkpoint/resume.js';
import { fetchFromPeer, type PeerTransferServer } from './peer-transfer.js';
import { orderOf } from './order.js';
import { StateScanner } from './precopy/manifest.js';
import type { PreCopies } from './precopy/sync.js';
import type { RoutingProxy } from './proxy/proxy.js';
import type { Transfers } from './transfer.js';
import type { Supervisor } from './workloads/supervisor.js';

export interface CommandContext {
  supervisor: Supervisor;
  transfers: Transfers;
  /** Set when the agent runs with --proxy. */
  proxy?: RoutingProxy;
  controller: string;
  /** Proves who this agent is on the streams it opens. */
  identity: AgentIdentity;
  /** Serves this agent's checkpoints to peers (direct transfers); absent when it does not. */
  peers?: PeerTransferServer;
  /** Pre-copy rounds this agent receives as a target. */
  precopies?: PreCopies;
  /** Tells the controller how far a long command has got. */
  progress?: (commandId: string, bytesDone: number) => void;
  dataDir: string;
  log: Logger;
}

/** Output a console shows first, so an attach or `logs -f` starts with context. */
const CONSOLE_BACKLOG_BYTES = 64 * 1024;

const ok = (id: string, patch: Partial<CommandResult> = {}): CommandResult => ({
  id,
  data: Buffer.alloc(0),
  sha256: '',
  size: 0,
  checkpointMs: 0,
  transferMs: 0,
  installMs: 0,
  movedBytes: 0,
  ...patch,
});

/**
 * Archives made by a checkpoint, or being packed for an offer, and not yet sent (a handful at
 * most: one per migration in flight). `packing` while it is still being packed.
 */
const archives = new Map<string, { file: string; packed: Promise<PackResult>; packing?: PackingStream }>();
/** Checkpoints offered to a peer, by id: the ticket digest to withdraw. */
const offered = new Map<string, string>();

/** Connections tried for one pull (the first included) before the target gives up. */
const PULL_ATTEMPTS = 5;

/**
 * Fetches a checkpoint straight from its source agent and unpacks it into `stateDir` as it
 * arrives (every entry checked, the sha256 checked at the end, swapped in only then), resuming
 * from what arrived after a dropped connection. UNAVAILABLE when the source cannot be reached at
 * all: the controller then relays it.
 */
async function pullFromPeer(
  p: PullCheckpoint,
  stateDir: string,
  ctx: CommandContext,
  commandId: string,
): Promise<PackResult> {
  const rx = new ResumableReceiver(stateDir, { maxBytes: Number(p.maxBytes), sender: `server ${p.sourceServerId}` });
  // Known up front when the source packed before offering; else the source says once it has packed.
  const expected = p.sha256 ? { size: Number(p.size), sha256: p.sha256 } : undefined;
  if (expected) rx.complete(expected);
  const reporter = setInterval(() => ctx.progress?.(commandId, rx.received), PROGRESS_EVERY_MS);
  try {
    return await receive(p, rx, ctx, expected);
  } finally {
    clearInterval(reporter);
  }
}

/** How often the target says how much of a pulled checkpoint it has (the migration's progress bar). */
const PROGRESS_EVERY_MS = 250;

async function receive(
  p: PullCheckpoint,
  rx: ResumableReceiver,
  ctx: CommandContext,
  known: PackResult | undefined,
): Promise<PackResult> {
  let expected = known;
  // Attempts count connections that brought nothing new: a source still packing ends each
  // connection at what it has packed, and the next one goes on from there.
  for (let attempt = 1; ; ) {
    const before = rx.received;
    try {
      const got = await fetchFromPeer({
        address: p.sourceAddress,
        sourceServerId: p.sourceServerId,
        tls: ctx.identity.tls.pems(),
        secret: p.ticket,
        checkpointId: p.checkpointId,
        offset: rx.received,
      });
      if (got.size >= 0) {
        if (!expected) {
          expected = { size: got.size, sha256: got.sha256 };
          rx.complete(expected);
        } else if (got.size !== expected.size || got.sha256 !== expected.sha256)
          throw new YardError(
            'CHECKSUM_MISMATCH',
            `server ${p.sourceServerId} offers another checkpoint than the one saved`,
          );
      }
      await rx.attach(got.body);
      if (expected && rx.received === expected.size) break;
      // OpenSSL's own words (`decryption failed or bad record mac`), not its whole error line.
      const drop = rx.dropReason as (Error & { reason?: string }) | undefined;
      // Ended cleanly at what the source had packed: the next connection goes on. A connection
      // that broke is said, with why, even when it brought bytes.
      if (rx.received > before && !drop) continue;
      const why = drop ? `: ${drop.reason ?? errorMessage(drop)}` : '';
      throw new Error(
        `the connection ended after ${rx.received} of ${expected?.size ?? 'an unknown number of'} bytes${why}`,
      );
    } catch (err) {
      if (rx.received > before) attempt = 1;
      else attempt++;
      const fatal = err instanceof YardError && err.code !== 'UNAVAILABLE';
      // Never reached the source: the controller relays instead.
      const unreachable = err instanceof YardError && rx.received === 0 && attempt === 2;
      if (fatal || unreachable || attempt > PULL_ATTEMPTS) {
        const e =
          fatal || unreachable
            ? err
            : new YardError(
                'UNAVAILABLE',
                `the direct transfer from server ${p.sourceServerId} broke off ${attempt - 1} times: ${errorMessage(err)}`,
              );
        rx.abort(e as Error);
        await rx.done.catch(() => undefined);
        throw e;
      }
      ctx.log.warn(
        `direct transfer of checkpoint ${p.checkpointId} broke off at ${rx.received} of ${expected?.size ?? '?'} bytes (${errorMessage(err)}); resuming`,
      );
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
  await rx.done;
  if (!expected) throw new YardError('INTERNAL', 'the transfer ended without the size of the checkpoint');
  return expected;
}

async function outboxFile(ctx: CommandContext, checkpointId: string): Promise<string> {
  if (!/^[A-Za-z0-9-]{8,64}$/.test(checkpointId))
    throw new YardError('INVALID_ARGUMENT', `bad checkpoint id "${checkpointId}"`);
  const dir = join(ctx.dataDir, 'outbox');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${checkpointId}.tar`);
}

/** Carries out one of the controller's commands; every failure becomes a structured error. */
export async function runCommand(cmd: AgentCommand, ctx: CommandContext): Promise<CommandResult> {
  try {
    return await dispatch(cmd, ctx);
  } catch (err) {
    const e = err instanceof YardError ? err : new YardError('INTERNAL', errorMessage(err));
    ctx.log.warn(`command ${cmd.action?.$case ?? '?'} failed: ${e.message}`, { code: e.code });
    return ok(cmd.id, { error: { code: e.code, message: e.message, details: e.details } });
  }
}

async function dispatch(cmd: AgentCommand, ctx: CommandContext): Promise<CommandResult> {
  const { supervisor: sup } = ctx;
  const a = orderOf(cmd);
  switch (a?.$case) {
    case 'start':
      return ok(cmd.id, {
        workload: await sup.start(a.value.spec, { restore: a.value.restore, provisional: a.value.provisional }),
      });
    case 'stop':
      return ok(cmd.id, { workload: await sup.stop(a.value.name, { remove: a.value.remove, kill: a.value.kill }) });
    case 'ensure':
      return ok(cmd.id, { workload: await sup.ensureRunning(a.value.name, { restore: a.value.restore }) });
    case 'inspect':
      return ok(cmd.id, { workload: sup.inspect(a.value.name) });
    case 'signal':
      return ok(cmd.id, {
        workload:
          a.value.signal === WorkloadSignal.WORKLOAD_SIGNAL_PAUSE ? sup.pause(a.value.name) : sup.resume(a.value.name),
      });
    case 'logs':
      return ok(cmd.id, { data: sup.output(a.value.name, a.value.tailBytes || undefined) });
    case 'checkpoint': {
      const file = await outboxFile(ctx, a.value.checkpointId);
      try {
        const cp = await sup.checkpoint(a.value.name, {
          freeze: a.value.freeze,
          maxBytes: Number(a.value.maxBytes),
          // Pre-copy's last round moves the state dir itself: no archive.
          archiveFile: a.value.noArchive ? undefined : file,
        });
        // Kept until uploaded: the controller asks for that next (it journals the phase first).
        if (!a.value.noArchive) archives.set(a.value.checkpointId, { file, packed: Promise.resolve(cp) });
        return ok(cmd.id, { sha256: cp.sha256, size: cp.size, checkpointMs: cp.checkpointMs });
      } catch (err) {
        await rm(file, { force: true });
        throw err;
      }
    }
    case 'offer': {
      if (!ctx.peers) throw new YardError('FAILED_PRECONDITION', 'this agent serves no direct transfers');
      const id = a.value.checkpointId;
      let archive = archives.get(id);
      if (!archive) {
        if (!a.value.name) throw new YardError('NOT_FOUND', `no checkpoint ${id} waiting on this agent`);
        // Packed as it is served: the target reads the archive while it is being written (kept
        // here for a resume, or the relay if the target cannot reach us).
        const file = await outboxFile(ctx, id);
        const packing = await packToStream(sup.stateDirOf(a.value.name), {
          maxBytes: Number(a.value.maxBytes),
          keep: file,
        });
        packing.stream.destroy(); // no reader of its own: it packs on into the kept file
        archive = { file, packed: packing.result, packing };
        archives.set(id, archive);
      }
      const { file, packing } = archive;
      const offer = {
        ticket: {
          digest: a.value.ticketDigest,
          checkpointId: id,
          sourceServerId: ctx.identity.serverId,
          targetServerId: a.value.targetServerId,
          expiresMs: Number(a.value.expiresMs),
        },
        // Unknown (-1) until the last byte is packed; the target learns both on its next connection.
        size: -1,
        sha256: '',
        open: (offset: number) =>
          packing ? packing.from(offset) : createReadStream(file, { start: offset, highWaterMark: 1024 * 1024 }),
      };
      ctx.peers.offer(offer);
      offered.set(id, a.value.ticketDigest);
      const reporter = setInterval(() => ctx.progress?.(cmd.id, packing?.packed ?? 0), PROGRESS_EVERY_MS);
      ctx.progress?.(cmd.id, 0); // the offer is open: the target may connect
      try {
        const packed = await archive.packed;
        Object.assign(offer, packed);
        return ok(cmd.id, packed);
      } catch (err) {
        ctx.peers.withdraw(a.value.ticketDigest);
        offered.delete(id);
        archives.delete(id);
        throw err;
      } finally {
        clearInterval(reporter);
      }
    }
    case 'offerState': {
      if (!ctx.peers) throw new YardError('FAILED_PRECONDITION', 'this agent serves no direct transfers');
      // Scanned afresh at each round, remembering the chunks of files that did not change.
      const scanner = new StateScanner(sup.stateDirOf(a.value.name), Number.MAX_SAFE_INTEGER);
      const first = await scanner.size();
      ctx.peers.offer({
        ticket: {
          digest: a.value.ticketDigest,
          checkpointId: a.value.checkpointId,
          sourceServerId: ctx.identity.serverId,
          targetServerId: a.value.targetServerId,
          expiresMs: Number(a.value.expiresMs),
        },
        size: first,
        sha256: '',
        open: () => {
          throw new YardError('FAILED_PRECONDITION', 'a state dir is offered, not an archive');
        },
        state: { manifest: () => scanner.scan(), read: (wanted) => scanner.read(wanted) },
      });
      offered.set(a.value.checkpointId, a.value.ticketDigest);
      return ok(cmd.id, { size: first });
    }
    case 'syncState': {
      if (!ctx.precopies) throw new YardError('FAILED_PRECONDITION', 'this agent takes no pre-copy');
      const s = a.value;
      const t0 = Date.now();
      const round = await ctx.precopies.round(s, (b) => ctx.progress?.(cmd.id, b));
      const t1 = Date.now();
      if (s.final) {
        await sup.installCheckpoint(s.spec, (stateDir) => moveInto(round.stage.dir, stateDir), {
          sha256: round.digest,
          maxBytes: Number(s.maxBytes),
        });
        await ctx.precopies.drop(s.checkpointId);
      }
      return ok(cmd.id, {
        size: round.bytes,
        movedBytes: round.moved,
        sha256: round.digest,
        transferMs: t1 - t0,
        installMs: Date.now() - t1,
      });
    }
    case 'withdraw': {
      await ctx.precopies?.drop(a.value.checkpointId);
      const digest = offered.get(a.value.checkpointId);
      if (digest) ctx.peers?.withdraw(digest);
      offered.delete(a.value.checkpointId);
      const archive = archives.get(a.value.checkpointId);
      archives.delete(a.value.checkpointId);
      if (archive) await rm(archive.file, { force: true });
      return ok(cmd.id);
    }
    case 'pull': {
      // Unpacked as it arrives: no archive file on this side.
      const t0 = Date.now();
      let got: PackResult | undefined;
      await sup.installCheckpoint(
        a.value.spec,
        async (stateDir) => {
          got = await pullFromPeer(a.value, stateDir, ctx, cmd.id);
        },
        { sha256: a.value.sha256, maxBytes: Number(a.value.maxBytes) },
      );
      return ok(cmd.id, { transferMs: Date.now() - t0, installMs: 0, size: got?.size ?? 0, sha256: got?.sha256 ?? '' });
    }
    case 'upload': {
      const archive = archives.get(a.value.checkpointId);
      if (!archive) throw new YardError('NOT_FOUND', `no checkpoint ${a.value.checkpointId} waiting on this agent`);
      const t0 = Date.now();
      try {
        const { sha256 } = await archive.packed;
        const res = await ctx.transfers.upload(a.value.checkpointId, archive.file, sha256);
        return ok(cmd.id, { sha256: res.sha256, size: res.size, transferMs: Date.now() - t0 });
      } finally {
        archives.delete(a.value.checkpointId);
        await rm(archive.file, { force: true });
      }
    }
    case 'fetch': {
      const file = (await outboxFile(ctx, a.value.checkpointId)).replace(/outbox/, 'inbox');
      await mkdir(join(ctx.dataDir, 'inbox'), { recursive: true, mode: 0o700 });
      const t0 = Date.now();
      try {
        await ctx.transfers.download(a.value.checkpointId, file, Number(a.value.size));
        const t1 = Date.now();
        await sup.installCheckpoint(a.value.spec, file, {
          sha256: a.value.sha256,
          maxBytes: Number(a.value.maxBytes),
        });
        return ok(cmd.id, { transferMs: t1 - t0, installMs: Date.now() - t1, size: a.value.size });
      } finally {
        await rm(file, { force: true });
      }
    }
    case 'console':
      await openConsole(a.value, ctx);
      return ok(cmd.id);
    case 'routes':
      if (!ctx.proxy)
        throw new YardError(
          'FAILED_PRECONDITION',
          'this agent was not started with --proxy, so it cannot serve routes; restart it with `yard agent --proxy`, or place the route on a proxy agent',
        );
      await ctx.proxy.place(a.value.routes);
      return ok(cmd.id);
    default:
      throw new YardError(
        'INVALID_ARGUMENT',
        `unknown command ${(a as { $case?: string } | undefined)?.$case ?? '(none)'}: the controller is newer than this agent`,
      );
  }
}

/** Dials AgentGateway.Console for the session the controller named and joins it to the pty. */
async function openConsole(req: OpenConsole, ctx: CommandContext): Promise<void> {
  if (!ctx.supervisor.get(req.name)) throw new YardError('NOT_FOUND', `no workload ${req.name} on this agent`);
  const client = new AgentGatewayClient(ctx.controller, ctx.identity.tls.channel(), CLIENT_OPTIONS);
  const call = client.console(new Metadata());
  let closed = false;
  const finish = (reason: string) => {
    if (closed) return;
    closed = true;
    call.write({ sessionId: '', data: Buffer.alloc(0), closed: true, reason });
    call.end();
    client.close();
  };
  call.write({
    sessionId: req.sessionId,
    data: ctx.supervisor.output(req.name, CONSOLE_BACKLOG_BYTES),
    closed: false,
    reason: '',
  });
  const handle = ctx.supervisor.openConsole(
    req.name,
    (data) => {
      if (!closed) call.write({ sessionId: '', data, closed: false, reason: '' });
    },
    (reason) => finish(reason),
  );
  if (req.interactive && req.cols && req.rows) handle.resize(req.cols, req.rows);
  call.on('data', (msg: ConsoleResponse) => {
    if (!req.interactive) return;
    if (msg.input.length) handle.write(msg.input);
    if (msg.cols && msg.rows) handle.resize(msg.cols, msg.rows);
  });
  const end = () => {
    handle.close();
    if (!closed) {
      closed = true;
      client.close();
    }
  };
  call.on('end', end);
  call.on('error', end);
}

/** The staged state becomes the workload's state dir: a rename on one disk, a copy across two. */
async function moveInto(stage: string, stateDir: string): Promise<void> {
  await rm(stateDir, { recursive: true, force: true });
  await mkdir(dirname(stateDir), { recursive: true, mode: 0o700 });
  try {
    await rename(stage, stateDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await cp(stage, stateDir, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await rm(stage, { recursive: true, force: true });
  }
}
