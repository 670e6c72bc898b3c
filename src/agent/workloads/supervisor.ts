// The agent's workloads: each runs in a pty, restarts by its policy, and can be paused,
// checkpointed (cooperatively or frozen) and installed from a checkpoint. Specs and whether
// each should run are kept in the data dir (SpecStore), so a restarted agent carries on.
import { EventEmitter } from 'node:events';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, YardError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import {
  DEFAULT_CHECKPOINT_SIGNAL,
  DEFAULT_CHECKPOINT_TIMEOUT_MS,
  RestartPolicy,
  WorkloadState,
  type Workload,
  type WorkloadSpec,
} from '../../core/workload.js';
import { Backoff } from '../backoff.js';
import { MAX_ENTRIES } from '../checkpoint/entry-check.js';
import { checkStateDir, packStateDir, type PackResult, tooLarge, unpackArchive } from '../checkpoint/archive.js';
import { clearCheckpointMark, markCheckpoint, savedSinceMark } from './checkpoint-mark.js';
import { OutputLog, readOutputTail } from './output-log.js';
import { OutputRing } from './output-ring.js';
import { WorkloadProcess, type ProcessExit } from './process.js';
import { clean, describeExit, inState, LIVE, stateWords, toWorkload, type Slot, type Viewer } from './slot.js';
import { parseWorkloadSpec } from '../../core/schema/workload-spec.js';
import { checkSpecOnHost } from './spec.js';
import { SpecStore, type SavedState, type SavedStatus } from './spec-store.js';
import { STOP_WAIT_MS, UsageReader, waitForStop } from './usage.js';

export interface SupervisorOptions {
  dataDir: string;
  serverId: string;
  log: Logger;
  /** Output kept in memory per workload (default 256 KiB). */
  outputBufferBytes?: number;
  /** Where this host's workloads are reached: given to them as SWITCHYARD_ADDRESS to bind. */
  advertiseAddress?: string;
  /** Secret files workloads must not read (see SpawnOptions.hide). */
  hide?: readonly string[];
}

/** The agent's own secrets in its environment: never handed to a workload. */
const SECRET_ENV = ['YARD_JOIN_TOKEN', 'YARD_CREDENTIAL', 'YARD_TOKEN'];

export interface ConsoleHandle {
  write(data: Buffer | string): void;
  resize(cols: number, rows: number): void;
  close(): void;
}

type SupervisorEvents = { change: [Workload]; removed: [string]; output: [string, Buffer]; exit: [string, Workload] };

const DEFAULT_OUTPUT_BYTES = 256 * 1024;
const STOP_GRACE_MS = 5_000;
// A run this long was a good one: the next failure starts the backoff from 1 s again.
const HEALTHY_RUN_MS = 10_000;
const USAGE_EVERY_MS = 2_000;
/** How often the state dirs' sizes are measured (a walk of each dir: not every usage sample). */
const STATE_SIZE_EVERY = 15;

const S = WorkloadState;

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly slots = new Map<string, Slot>();
  /** Workloads in the middle of start, checkpoint or install: one such operation at a time each. */
  private readonly busy = new Map<string, string>();
  private readonly store: SpecStore;
  private readonly usage = new UsageReader();
  private readonly outputBytes: number;
  private usageTimer?: NodeJS.Timeout;
  private closing = false;

  private constructor(private readonly opts: SupervisorOptions) {
    super();
    this.store = new SpecStore(join(opts.dataDir, 'workloads'));
    this.outputBytes = opts.outputBufferBytes ?? DEFAULT_OUTPUT_BYTES;
  }

  /** Loads the workloads kept in the data dir and starts those that were running. */
  static async open(opts: SupervisorOptions): Promise<Supervisor> {
    const sup = new Supervisor(opts);
    for (const { spec, status } of await sup.store.loadAll(opts.log)) await sup.load(spec, status);
    sup.usageTimer = setInterval(() => void sup.sampleUsage(), USAGE_EVERY_MS).unref();
    return sup;
  }

  list(): Workload[] {
    return [...this.slots.values()].map((s) => this.snapshot(s));
  }

  get(name: string): Workload | undefined {
    const slot = this.slots.get(name);
    return slot && this.snapshot(slot);
  }

  /** The workload as it is now; NOT_FOUND when this agent has none by that name. */
  inspect(name: string): Workload {
    return this.snapshot(this.must(name));
  }

  /** `provisional`: a migration's new copy, saved as checkpointed until ensureRunning() (the commit). */
  async start(specIn: WorkloadSpec, opts: { restore?: boolean; provisional?: boolean } = {}): Promise<Workload> {
    const spec = parseWorkloadSpec(specIn);
    const existing = this.slots.get(spec.name);
    if (existing) this.assertStopped(existing, 'start it again');
    const restore = opts.restore === true;
    await this.exclusive(spec.name, 'starting', async () => {
      await checkSpecOnHost(spec, spec.cwd || this.store.stateDir(spec.name));
      const saved: SavedState = opts.provisional ? 'checkpointed' : 'running';
      await this.store.save(spec, {
        state: saved,
        restore,
        message: opts.provisional ? 'started by a migration that did not commit' : '',
      });
      const slot = existing ?? this.newSlot(spec, saved);
      Object.assign(slot, { spec, restore, restarts: 0, saved });
      slot.backoff.reset();
      this.slots.set(spec.name, slot);
      this.spawn(slot, restore ? 'restored from its checkpoint' : 'started');
      if (!slot.proc)
        throw new YardError(
          'START_FAILED',
          `workload ${spec.name} could not be started: ${slot.message}; check its command and cwd`,
          { workload: spec.name },
        );
    });
    this.opts.log.info(`workload ${spec.name} started`, { workload: spec.name, restore });
    return this.snapshot(this.slots.get(spec.name)!);
  }

  async stop(name: string, opts: { remove?: boolean; kill?: boolean } = {}): Promise<Workload> {
    const slot = this.must(name);
    if (opts.remove && this.busy.has(name)) {
      throw new YardError(
        'BUSY',
        `workload ${name} is ${this.busy.get(name)}; stop it without removing it first, or wait until that ends`,
        { workload: name },
      );
    }
    this.cancelRestart(slot);
    if (slot.proc) await this.terminate(slot, slot.proc, opts.kill === true);
    else if (slot.state === S.WORKLOAD_STATE_BACKOFF) this.settle(slot, S.WORKLOAD_STATE_EXITED, 'stopped', 'exited');
    const last = this.snapshot(slot);
    if (opts.remove) await this.remove(slot);
    return last;
  }

  pause(name: string): Workload {
    const slot = this.must(name);
    if (slot.state === S.WORKLOAD_STATE_PAUSED) return this.snapshot(slot);
    if (slot.state !== S.WORKLOAD_STATE_RUNNING || !slot.proc) throw this.notRunning(slot, 'pause it');
    slot.proc.signal('SIGSTOP');
    this.set(slot, S.WORKLOAD_STATE_PAUSED, 'paused');
    return this.snapshot(slot);
  }

  resume(name: string): Workload {
    const slot = this.must(name);
    if (slot.state === S.WORKLOAD_STATE_RUNNING) return this.snapshot(slot);
    if (slot.state !== S.WORKLOAD_STATE_PAUSED || !slot.proc) throw this.notRunning(slot, 'resume it');
    slot.proc.signal('SIGCONT');
    this.set(slot, S.WORKLOAD_STATE_RUNNING, 'resumed');
    this.persist(slot, 'running');
    return this.snapshot(slot);
  }

  /**
   * Rollbacks: afterwards the workload runs here, decided from this agent's own state (the
   * controller's copy of it may trail): a live one is left be, a frozen one resumed, a
   * checkpointed or exited one started again, from its state dir when `restore`. While a
   * start, checkpoint or install is in flight the answer is BUSY: the caller asks again.
   */
  async ensureRunning(name: string, opts: { restore: boolean }): Promise<Workload> {
    const slot = this.must(name);
    const other = this.busy.get(name);
    if (other)
      throw new YardError('BUSY', `workload ${name} is ${other}; try again when that ends`, { workload: name });
    if (slot.state === S.WORKLOAD_STATE_PAUSED) return this.resume(name);
    if (!LIVE.has(slot.state)) return this.start(slot.spec, { restore: opts.restore });
    // A migration's provisional copy becomes this host's for good.
    if (slot.saved !== 'running') {
      slot.saved = 'running';
      await this.store.saveStatus(name, this.savedStatus(slot));
    }
    return this.snapshot(slot);
  }

  /**
   * Cooperative (freeze=false): signals the workload to save into its state dir and exit 0,
   * then packs the dir. Freeze: SIGSTOPs it and packs the dir while it is stopped; it stays
   * stopped. An already checkpointed workload is packed again as it is.
   */
  checkpoint(
    name: string,
    opts: { freeze: boolean; maxBytes: number; archiveFile?: string },
  ): Promise<{ sha256: string; size: number; checkpointMs: number }> {
    const slot = this.must(name);
    return this.exclusive(name, 'checkpointing', async () => {
      if (slot.state === S.WORKLOAD_STATE_CHECKPOINTED && !slot.proc) {
        return { ...(await saveOf(this.store.stateDir(name), opts)), checkpointMs: 0 };
      }
      return opts.freeze ? this.freeze(slot, opts) : this.cooperative(slot, opts);
    });
  }

  /** The state dir of a workload this agent has (pre-copy serves it while the workload runs). */
  stateDirOf(name: string): string {
    this.must(name);
    return this.store.stateDir(name);
  }

  /**
   * Installs a checkpoint into the workload's state dir: from an archive file, or through
   * `unpack`, which fills the state dir (e.g. from a stream as it arrives) or leaves it untouched.
   */
  async installCheckpoint(
    specIn: WorkloadSpec,
    archive: string | ((stateDir: string) => Promise<unknown>),
    opts: { sha256: string; maxBytes: number },
  ): Promise<void> {
    const spec = parseWorkloadSpec(specIn);
    const existing = this.slots.get(spec.name);
    if (existing) this.assertStopped(existing, 'install a checkpoint of it');
    await this.exclusive(spec.name, 'installing a checkpoint', async () => {
      try {
        const stateDir = this.store.stateDir(spec.name);
        if (typeof archive === 'string') await unpackArchive(archive, stateDir, opts);
        else await archive(stateDir);
      } catch (err) {
        if (!existing) await this.store.remove(spec.name);
        throw err;
      }
      const message = 'checkpoint installed';
      await this.store.save(spec, { state: 'checkpointed', restore: true, message });
      const slot = existing ?? this.newSlot(spec, 'checkpointed');
      Object.assign(slot, { spec, restore: true, saved: 'checkpointed' satisfies SavedState });
      this.slots.set(spec.name, slot);
      this.set(slot, S.WORKLOAD_STATE_CHECKPOINTED, message);
    });
    this.opts.log.info(`workload ${spec.name}: checkpoint installed`, { workload: spec.name });
  }

  output(name: string, tailBytes?: number): Buffer {
    return this.must(name).ring.tail(tailBytes);
  }

  /** Live output of `name` and input to its pty, across restarts, until it ends for good. */
  openConsole(name: string, onData: (d: Buffer) => void, onClose: (reason: string) => void): ConsoleHandle {
    const slot = this.must(name);
    const viewer: Viewer = { onData, onClose };
    if (LIVE.has(slot.state)) slot.viewers.add(viewer);
    else setImmediate(() => onClose(`workload ${name} is not running (${slot.message || stateWords(slot.state)})`));
    return {
      write: (data) => {
        if (slot.viewers.has(viewer)) slot.proc?.write(data);
      },
      resize: (cols, rows) => {
        if (slot.viewers.has(viewer) && cols > 0 && rows > 0) slot.proc?.resize(cols, rows);
      },
      close: () => void slot.viewers.delete(viewer),
    };
  }

  /** The agent is shutting down: ends every workload but keeps what should run next time. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.usageTimer);
    const slots = [...this.slots.values()];
    for (const slot of slots) this.cancelRestart(slot);
    await Promise.all(slots.map((slot) => slot.proc && this.terminate(slot, slot.proc, false)));
    for (const slot of slots) this.closeViewers(slot, 'the agent is shutting down');
    await Promise.all(slots.map((slot) => slot.log.close()));
    await Promise.all(
      slots.map((slot) => this.store.saveStatus(slot.spec.name, this.savedStatus(slot)).catch(() => undefined)),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Runs and exits

  private async load(spec: WorkloadSpec, saved: SavedStatus): Promise<void> {
    const status = await this.afterCheckpointCut(spec, saved);
    const slot = this.newSlot(spec, status.state);
    slot.restore = status.restore;
    slot.ring.write(await readOutputTail(this.store.outputLog(spec.name), this.outputBytes));
    this.slots.set(spec.name, slot);
    if (status.state === 'running') {
      this.spawn(slot, 'started again with the agent');
    } else if (status.state === 'exited') {
      this.set(slot, S.WORKLOAD_STATE_EXITED, status.message || 'exited');
    } else {
      // A frozen workload's process ended with the agent: its state dir is its checkpoint now.
      this.set(
        slot,
        S.WORKLOAD_STATE_CHECKPOINTED,
        status.state === 'frozen'
          ? 'was frozen for a migration when the agent stopped'
          : status.message || 'checkpointed',
      );
    }
  }

  /**
   * The agent died while the workload was checkpointing: the workload outlives it long enough to
   * finish a save it had begun. If its state dir changed since the signal, that save is its
   * newest state: it waits for the controller as checkpointed (never started afresh over it).
   */
  private async afterCheckpointCut(spec: WorkloadSpec, status: SavedStatus): Promise<SavedStatus> {
    const name = spec.name;
    const saved = await savedSinceMark(
      this.store.dir(name),
      this.store.stateDir(name),
      spec.checkpointTimeoutMs || DEFAULT_CHECKPOINT_TIMEOUT_MS,
    );
    if (saved === undefined) return status;
    await clearCheckpointMark(this.store.dir(name));
    if (!saved || status.state !== 'running') return status;
    const cut: SavedStatus = { state: 'checkpointed', restore: true, message: 'checkpointed as the agent stopped' };
    await this.store.saveStatus(name, cut);
    this.opts.log.warn(`workload ${name} saved a checkpoint as the agent stopped: it waits for the controller`, {
      workload: name,
    });
    return cut;
  }

  private newSlot(spec: WorkloadSpec, saved: SavedState): Slot {
    const name = spec.name;
    return {
      spec,
      state: S.WORKLOAD_STATE_EXITED,
      message: '',
      startedMs: 0,
      exitSignal: '',
      restarts: 0,
      restore: false,
      restored: false,
      backoff: new Backoff(),
      saved,
      ring: new OutputRing(this.outputBytes),
      log: new OutputLog(this.store.outputLog(name), undefined, (err) =>
        this.opts.log.warn(`workload ${name}: output log: ${err.message}`, { workload: name }),
      ),
      viewers: new Set(),
    };
  }

  /** Starts a run of `slot`'s command; on failure the slot is EXITED with the reason. */
  private spawn(slot: Slot, message: string): void {
    const { spec } = slot;
    const stateDir = this.store.stateDir(spec.name);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SECRET_ENV.includes(k)) env[k] = v;
    Object.assign(env, spec.env, {
      SWITCHYARD_STATE_DIR: stateDir,
      SWITCHYARD_WORKLOAD: spec.name,
      SWITCHYARD_CHECKPOINT_SIGNAL: spec.checkpointSignal || DEFAULT_CHECKPOINT_SIGNAL,
    });
    if (this.opts.advertiseAddress) env.SWITCHYARD_ADDRESS = this.opts.advertiseAddress;
    if (spec.ports[0]) env.SWITCHYARD_PORT = String(spec.ports[0]);
    if (slot.restore) env.SWITCHYARD_RESTORE = '1';
    else delete env.SWITCHYARD_RESTORE;
    let proc: WorkloadProcess;
    try {
      proc = new WorkloadProcess(
        { command: spec.command, args: spec.args, cwd: spec.cwd || stateDir, env, hide: this.opts.hide },
        (d) => this.onOutput(slot, d),
      );
    } catch (err) {
      this.settle(slot, S.WORKLOAD_STATE_EXITED, `could not start: ${errorMessage(err)}`, 'exited');
      return;
    }
    Object.assign(slot, {
      proc,
      startedMs: Date.now(),
      exitCode: undefined,
      exitSignal: '',
      restored: slot.restore,
      expecting: undefined,
    });
    this.set(slot, S.WORKLOAD_STATE_RUNNING, message);
    void proc.exited.then((exit) => this.onExit(slot, proc, exit));
  }

  private onOutput(slot: Slot, data: Buffer): void {
    slot.ring.write(data);
    slot.log.write(data);
    this.emit('output', slot.spec.name, data);
    for (const v of slot.viewers) v.onData(data);
  }

  private onExit(slot: Slot, proc: WorkloadProcess, exit: ProcessExit): void {
    if (slot.proc !== proc) return;
    // A workload killed by a signal has no exit code (node-pty reports 0 for it).
    Object.assign(slot, {
      proc: undefined,
      exitCode: exit.signal ? undefined : exit.exitCode,
      exitSignal: exit.signal,
      cpuPct: undefined,
      rssBytes: undefined,
    });
    const expecting = slot.expecting;
    slot.expecting = undefined;
    const how = describeExit(exit);
    if (this.closing) this.set(slot, S.WORKLOAD_STATE_EXITED, `${how} (the agent stopped)`);
    else if (expecting === 'stop') this.settle(slot, S.WORKLOAD_STATE_EXITED, `stopped (${how})`, 'exited');
    else if (expecting === 'checkpoint' && clean(exit))
      this.settle(slot, S.WORKLOAD_STATE_CHECKPOINTED, 'checkpointed', 'checkpointed');
    else this.applyRestartPolicy(slot, exit, expecting === 'checkpoint' ? `checkpoint failed: ${how}` : how);
    this.emit('exit', slot.spec.name, this.snapshot(slot));
  }

  private applyRestartPolicy(slot: Slot, exit: ProcessExit, how: string): void {
    const policy = slot.spec.restart;
    if (
      policy !== RestartPolicy.RESTART_POLICY_ALWAYS &&
      !(policy === RestartPolicy.RESTART_POLICY_ON_FAILURE && !clean(exit))
    ) {
      this.settle(slot, S.WORKLOAD_STATE_EXITED, how, 'exited');
      return;
    }
    if (Date.now() - slot.startedMs >= HEALTHY_RUN_MS) slot.backoff.reset();
    const delay = slot.backoff.next();
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      slot.restarts++;
      this.spawn(slot, `restarted (${slot.restarts})`);
    }, delay);
    this.set(slot, S.WORKLOAD_STATE_BACKOFF, `${how}, restarting in ${Math.max(1, Math.round(delay / 1000))}s`);
  }

  private cancelRestart(slot: Slot): void {
    clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
  }

  /** SIGTERM to the process group (SIGKILL after a grace, or at once); resolves once it exited. */
  private async terminate(slot: Slot, proc: WorkloadProcess, kill: boolean): Promise<void> {
    slot.expecting = 'stop';
    if (kill) proc.signal('SIGKILL');
    else {
      proc.signal('SIGTERM');
      // A stopped process keeps its SIGTERM pending until it runs again.
      if (slot.state === S.WORKLOAD_STATE_PAUSED) proc.signal('SIGCONT');
    }
    const grace = kill ? undefined : setTimeout(() => proc.signal('SIGKILL'), STOP_GRACE_MS);
    await proc.exited;
    clearTimeout(grace);
  }

  private async remove(slot: Slot): Promise<void> {
    const name = slot.spec.name;
    this.cancelRestart(slot);
    this.slots.delete(name);
    this.closeViewers(slot, `workload ${name} was removed`);
    await slot.log.close();
    await this.store.remove(name);
    this.emit('removed', name);
    this.opts.log.info(`workload ${name} removed`, { workload: name });
  }

  // -------------------------------------------------------------------------------------------
  // Checkpoints

  private async cooperative(
    slot: Slot,
    opts: { maxBytes: number; archiveFile?: string },
  ): Promise<{ sha256: string; size: number; checkpointMs: number }> {
    const { name, checkpointSignal, checkpointTimeoutMs } = slot.spec;
    const proc = slot.proc;
    if (slot.state !== S.WORKLOAD_STATE_RUNNING || !proc)
      throw this.notRunning(slot, 'checkpoint it (a paused workload cannot save its state: resume it first)');
    slot.expecting = 'checkpoint';
    this.set(slot, S.WORKLOAD_STATE_CHECKPOINTING, `checkpointing (${checkpointSignal})`);
    await markCheckpoint(this.store.dir(name), this.store.stateDir(name), proc.pid);
    const t0 = Date.now();
    proc.signal(checkpointSignal as NodeJS.Signals, 'process');
    const exit = await within(proc.exited, checkpointTimeoutMs);
    await clearCheckpointMark(this.store.dir(name));
    const checkpointMs = Date.now() - t0;
    if (exit === undefined) {
      if (slot.proc === proc && slot.expecting === 'checkpoint') {
        slot.expecting = undefined;
        this.set(slot, S.WORKLOAD_STATE_RUNNING, `checkpoint timed out after ${formatMs(checkpointTimeoutMs)}`);
      }
      throw new YardError(
        'CHECKPOINT_TIMEOUT',
        `workload ${name} did not save its state and exit within ${formatMs(checkpointTimeoutMs)} of ${checkpointSignal}; it is still running as it was; make it exit 0 on ${checkpointSignal} or raise its checkpoint timeout`,
        { workload: name },
      );
    }
    if (!inState(slot, S.WORKLOAD_STATE_CHECKPOINTED)) {
      throw new YardError(
        'CHECKPOINT_FAILED',
        `workload ${name} did not checkpoint: ${slot.message}; it must save its state into SWITCHYARD_STATE_DIR and exit 0 on ${checkpointSignal}`,
        { workload: name },
      );
    }
    try {
      return { ...(await saveOf(this.store.stateDir(name), opts)), checkpointMs };
    } catch (err) {
      // Nothing is lost: the state it saved is still in its state dir, so it carries on from it.
      if (inState(slot, S.WORKLOAD_STATE_CHECKPOINTED) && !this.closing) {
        slot.restore = true;
        this.persist(slot, 'running');
        this.spawn(slot, `checkpoint not packed (${errorMessage(err)}); restarted from its state dir`);
      }
      throw err;
    }
  }

  private async freeze(
    slot: Slot,
    opts: { maxBytes: number; archiveFile?: string },
  ): Promise<{ sha256: string; size: number; checkpointMs: number }> {
    const proc = slot.proc;
    const wasPaused = slot.state === S.WORKLOAD_STATE_PAUSED;
    if ((slot.state !== S.WORKLOAD_STATE_RUNNING && !wasPaused) || !proc) throw this.notRunning(slot, 'freeze it');
    const t0 = Date.now();
    this.set(slot, S.WORKLOAD_STATE_PAUSED, 'frozen for migration');
    this.persist(slot, 'frozen');
    try {
      const stop = await waitForStop(proc.pid, () => proc.signal('SIGSTOP'));
      if (stop === 'gone')
        throw new YardError(
          'CHECKPOINT_FAILED',
          `${slot.spec.name} (pid ${proc.pid}) exited before it could be frozen`,
        );
      if (stop !== 'stopped')
        throw new YardError(
          'CHECKPOINT_FAILED',
          `${slot.spec.name} (pid ${proc.pid}) did not stop on SIGSTOP within ${STOP_WAIT_MS / 1000}s (its states meanwhile: ${stop.timeout})`,
        );
      return {
        ...(await saveOf(this.store.stateDir(slot.spec.name), opts)),
        checkpointMs: Date.now() - t0,
      };
    } catch (err) {
      if (slot.proc === proc && inState(slot, S.WORKLOAD_STATE_PAUSED)) {
        if (!wasPaused) proc.signal('SIGCONT');
        this.set(
          slot,
          wasPaused ? S.WORKLOAD_STATE_PAUSED : S.WORKLOAD_STATE_RUNNING,
          `freeze checkpoint failed: ${errorMessage(err)}`,
        );
        this.persist(slot, 'running');
      }
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------
  // State, persistence, snapshots

  private set(slot: Slot, state: WorkloadState, message: string): void {
    slot.state = state;
    slot.message = message;
    this.emit('change', this.snapshot(slot));
  }

  /** A state the workload stays in: saved, and consoles told it ended. */
  private settle(slot: Slot, state: WorkloadState, message: string, saved: SavedState): void {
    this.set(slot, state, message);
    this.persist(slot, saved);
    this.closeViewers(slot, `workload ${slot.spec.name} ${message}`);
  }

  private persist(slot: Slot, saved: SavedState): void {
    slot.saved = saved;
    if (this.closing) return;
    this.store.saveStatus(slot.spec.name, this.savedStatus(slot)).catch((err: unknown) => {
      this.opts.log.warn(`workload ${slot.spec.name}: could not save its status: ${errorMessage(err)}`, {
        workload: slot.spec.name,
      });
    });
  }

  private savedStatus(slot: Slot): SavedStatus {
    return { state: slot.saved, restore: slot.restore, message: slot.message };
  }

  private closeViewers(slot: Slot, reason: string): void {
    const viewers = [...slot.viewers];
    slot.viewers.clear();
    for (const v of viewers) v.onClose(reason);
  }

  private snapshot(slot: Slot): Workload {
    return toWorkload(slot, this.opts.serverId, this.store.stateDir(slot.spec.name));
  }

  private usageSamples = 0;

  private async sampleUsage(): Promise<void> {
    if (this.usageSamples++ % STATE_SIZE_EVERY === 0) await this.sampleStateSizes();
    const running = [...this.slots.values()].filter((s) => s.proc);
    this.usage.retain(new Set(running.map((s) => s.proc!.pid)));
    for (const slot of running) {
      const proc = slot.proc!;
      const u = await this.usage.read(proc.pid);
      if (slot.proc !== proc) continue;
      const cpuPct = u.cpuPct === undefined ? undefined : Math.round(u.cpuPct * 10) / 10;
      if (cpuPct === slot.cpuPct && u.rssBytes === slot.rssBytes) continue;
      slot.cpuPct = cpuPct;
      slot.rssBytes = u.rssBytes;
      this.emit('change', this.snapshot(slot));
    }
  }

  /** Each workload's state dir size, for the controller's preflight (what a target must have free). */
  private async sampleStateSizes(): Promise<void> {
    for (const slot of [...this.slots.values()]) {
      const bytes = await dirBytes(this.store.stateDir(slot.spec.name));
      if (bytes === undefined || bytes === slot.stateBytes) continue;
      slot.stateBytes = bytes;
      this.emit('change', this.snapshot(slot));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Guards

  private must(name: string): Slot {
    if (this.closing)
      throw new YardError('UNAVAILABLE', `the agent is shutting down; workload ${name} cannot be changed now`, {
        workload: name,
      });
    const slot = this.slots.get(name);
    if (!slot)
      throw new YardError(
        'NOT_FOUND',
        `no workload ${name} on this host (${this.opts.serverId}); \`yard ps\` lists where workloads run`,
        { workload: name },
      );
    return slot;
  }

  private assertStopped(slot: Slot, what: string): void {
    if (LIVE.has(slot.state)) {
      throw new YardError(
        'ALREADY_EXISTS',
        `workload ${slot.spec.name} is already ${stateWords(slot.state)} on this host; stop it before you ${what}`,
        { workload: slot.spec.name },
      );
    }
  }

  private notRunning(slot: Slot, what: string): YardError {
    return new YardError(
      'FAILED_PRECONDITION',
      `workload ${slot.spec.name} is ${stateWords(slot.state)}${slot.message ? ` (${slot.message})` : ''}, so the agent cannot ${what}`,
      { workload: slot.spec.name },
    );
  }

  /** Runs `op` as the only start/checkpoint/install of `name` in flight. */
  private async exclusive<T>(name: string, what: string, op: () => Promise<T>): Promise<T> {
    if (this.closing)
      throw new YardError('UNAVAILABLE', `the agent is shutting down; workload ${name} cannot be changed now`, {
        workload: name,
      });
    const other = this.busy.get(name);
    if (other)
      throw new YardError('BUSY', `workload ${name} is ${other}; try again when that ends`, { workload: name });
    this.busy.set(name, what);
    try {
      return await op();
    } finally {
      this.busy.delete(name);
    }
  }
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

/** `p`'s value, or undefined when it takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, ms, undefined)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a checkpoint leaves to move: the state dir packed into `archiveFile`, or, without one
 * (pre-copy moves the dir itself), the dir checked as a pack would check it, and its size.
 */
async function saveOf(dir: string, opts: { maxBytes: number; archiveFile?: string }): Promise<PackResult> {
  if (opts.archiveFile) return packStateDir(dir, opts.archiveFile, opts);
  const size = await checkStateDir(dir, opts.maxBytes);
  if (size > opts.maxBytes) throw tooLarge(dir, `its files hold ${size} bytes`, opts.maxBytes);
  return { sha256: '', size };
}

/** The bytes of the regular files under `dir` (links not followed), up to a bounded walk; undefined if unreadable. */
async function dirBytes(dir: string): Promise<number | undefined> {
  let bytes = 0;
  let entries = 0;
  const visit = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (++entries > MAX_ENTRIES) return;
      const full = join(d, e.name);
      if (e.isDirectory()) await visit(full);
      else if (e.isFile()) bytes += (await lstat(full).catch(() => undefined))?.size ?? 0;
    }
  };
  try {
    await visit(dir);
    return bytes;
  } catch {
    return undefined;
  }
}
