// What the agent keeps per workload, so a restarted agent knows what to run again:
//   <dataDir>/workloads/<name>/spec.json    what the operator asked to run (proto JSON)
//   <dataDir>/workloads/<name>/status.json  whether it should be running when the agent starts
//   <dataDir>/workloads/<name>/state/       SWITCHYARD_STATE_DIR
//   <dataDir>/workloads/<name>/output.log   its output, rotated
// All of it owner-only (dirs 0700, files 0600) whatever the umask: a spec holds the workload's
// --env values, and its state and output are its own. Each workload gets only its own state
// dir, never the agent's data dir, where the agent keeps its identity.
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { WorkloadSpec } from '../../gen/switchyard/v1/workload.js';
import { parseWorkloadSpec } from '../../core/schema/workload-spec.js';

/**
 * What an agent does with a workload when it starts: `running` ones are started again;
 * `exited` ones are listed; `checkpointed` and `frozen` ones wait for the controller (their
 * state may already run elsewhere, so starting them could run the workload twice).
 */
export type SavedState = 'running' | 'exited' | 'checkpointed' | 'frozen';

export interface SavedStatus {
  state: SavedState;
  /** Start with SWITCHYARD_RESTORE=1. */
  restore: boolean;
  message: string;
}

export interface SavedWorkload {
  spec: WorkloadSpec;
  status: SavedStatus;
}

const SAVED_STATES = new Set<string>(['running', 'exited', 'checkpointed', 'frozen']);

export class SpecStore {
  // One write at a time per workload, so an older status never lands after a newer one.
  private readonly writes = new Map<string, Promise<void>>();

  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  dir(name: string): string {
    return join(this.root, name);
  }

  stateDir(name: string): string {
    return join(this.root, name, 'state');
  }

  outputLog(name: string): string {
    return join(this.root, name, 'output.log');
  }

  save(spec: WorkloadSpec, status: SavedStatus): Promise<void> {
    return this.queue(spec.name, async () => {
      await mkdir(this.stateDir(spec.name), { recursive: true, mode: PRIVATE_DIR });
      await writeAtomic(join(this.dir(spec.name), 'spec.json'), JSON.stringify(WorkloadSpec.toJSON(spec), null, 2));
      await writeAtomic(join(this.dir(spec.name), 'status.json'), JSON.stringify(status));
    });
  }

  saveStatus(name: string, status: SavedStatus): Promise<void> {
    return this.queue(name, () => writeAtomic(join(this.dir(name), 'status.json'), JSON.stringify(status)));
  }

  /** Deletes the spec, the state dir and the output of `name`. */
  remove(name: string): Promise<void> {
    return this.queue(name, () => rm(this.dir(name), { recursive: true, force: true }));
  }

  /** Every workload kept here; an unreadable one is logged and left on disk as it is. */
  async loadAll(log: Logger): Promise<SavedWorkload[]> {
    await mkdir(this.root, { recursive: true, mode: PRIVATE_DIR });
    await chmod(this.root, PRIVATE_DIR);
    const out: SavedWorkload[] = [];
    for (const name of await readdir(this.root)) {
      const loaded = await this.tighten(name)
        .then(() => this.load(name))
        .catch((err: unknown) => {
          log.warn(`workload ${name} was not loaded: ${errorMessage(err)}; fix or remove ${this.dir(name)}`, {
            workload: name,
          });
          return undefined;
        });
      if (loaded) out.push(loaded);
    }
    return out;
  }

  /** Owner-only modes for what an older version left readable by everyone. */
  private async tighten(name: string): Promise<void> {
    const dir = this.dir(name);
    for (const [path, mode] of [
      [dir, PRIVATE_DIR],
      [this.stateDir(name), PRIVATE_DIR],
      [join(dir, 'spec.json'), PRIVATE_FILE],
      [join(dir, 'status.json'), PRIVATE_FILE],
      [this.outputLog(name), PRIVATE_FILE],
      [`${this.outputLog(name)}.1`, PRIVATE_FILE],
    ] as const) {
      await chmod(path, mode).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  }

  private async load(name: string): Promise<SavedWorkload | undefined> {
    const specText = await readFile(join(this.dir(name), 'spec.json'), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (specText === undefined) return undefined;
    const spec = parseWorkloadSpec(WorkloadSpec.fromJSON(JSON.parse(specText)));
    if (spec.name !== name) throw new Error(`spec.json names workload ${spec.name}`);
    const statusText = await readFile(join(this.dir(name), 'status.json'), 'utf8').catch(() => '{}');
    const raw = JSON.parse(statusText) as Partial<SavedStatus>;
    const status: SavedStatus = {
      state: SAVED_STATES.has(String(raw.state)) ? (raw.state as SavedState) : 'exited',
      restore: raw.restore === true,
      message: typeof raw.message === 'string' ? raw.message : '',
    };
    return { spec, status };
  }

  private queue(name: string, write: () => Promise<void>): Promise<void> {
    const next = (this.writes.get(name) ?? Promise.resolve()).then(write, write);
    const settled = next.catch(() => undefined);
    this.writes.set(name, settled);
    void settled.then(() => {
      if (this.writes.get(name) === settled) this.writes.delete(name);
    });
    return next;
  }
}

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await rm(tmp, { force: true }); // a leftover would keep its old mode
  await writeFile(tmp, text, { mode: PRIVATE_FILE });
  await rename(tmp, file);
}
