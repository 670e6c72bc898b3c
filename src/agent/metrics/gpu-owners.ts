// Who holds GPU memory: for each process nvidia-smi lists, the OS user it runs as and the agent's
// workload it belongs to. Read from /proc (no child processes) when compute apps are polled,
// a few reads per GPU process; user names come from /etc/passwd, parsed again only when it changes.
import { readFile, stat } from 'node:fs/promises';
import type { GpuProcess } from '../../core/types.js';

/** A supervised workload's name and the pid of its process (0 while it has none). */
export interface WorkloadPid {
  name: string;
  pid: number;
}

export interface GpuOwnersOptions {
  /** The agent's workloads now. */
  workloads: () => readonly WorkloadPid[];
  /** Where user names come from (default /etc/passwd). */
  passwd?: string;
}

/** A process as /proc/PID/status tells it. */
interface ProcStatus {
  uid: number;
  ppid: number;
  /** The session it is in (NSsid, as this agent's pid namespace sees it); undefined on kernels before 4.1. */
  sid?: number;
}

/** Ancestors looked at before giving up: a deeper tree is not one of ours in practice. */
const MAX_ANCESTORS = 64;

function field(status: string, name: string): number | undefined {
  const m = new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status);
  return m ? Number(m[1]) : undefined;
}

function parseStatus(status: string): ProcStatus | undefined {
  const uid = field(status, 'Uid');
  const ppid = field(status, 'PPid');
  if (uid === undefined || ppid === undefined) return undefined;
  // NSsid lists the session id in each nested pid namespace, outermost first: the first is ours.
  return { uid, ppid, sid: field(status, 'NSsid') };
}

/** `name:x:uid:…` lines of a passwd file, by uid (the first entry wins, as getpwuid does). */
function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (!name || uid === undefined || !/^\d+$/.test(uid)) continue;
    if (!names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}

type StatusOf = (pid: number) => Promise<ProcStatus | undefined>;

async function readStatus(pid: number): Promise<ProcStatus | undefined> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseStatus(text);
}

/**
 * The workload whose process is an ancestor, else the one whose session it is in: the pty makes
 * each workload a session leader, so a child that was re-parented (a daemon) still counts.
 */
async function workloadOf(own: ProcStatus, workloads: Map<number, string>, status: StatusOf): Promise<string> {
  let ppid = own.ppid;
  for (let hop = 0; hop < MAX_ANCESTORS && ppid > 1; hop++) {
    const name = workloads.get(ppid);
    if (name !== undefined) return name;
    const parent = await status(ppid);
    if (!parent) break;
    ppid = parent.ppid;
  }
  return (own.sid !== undefined && workloads.get(own.sid)) || '';
}

export class GpuOwners {
  private readonly passwd: string;
  private names = new Map<number, string>();
  private passwdMtimeMs = -1;

  constructor(private readonly opts: GpuOwnersOptions) {
    this.passwd = opts.passwd ?? '/etc/passwd';
  }

  /** The same processes, each with its user and workload where they can be told. */
  async describe(byGpu: Map<string, GpuProcess[]>): Promise<Map<string, GpuProcess[]>> {
    await this.refreshNames();
    const workloads = new Map<number, string>();
    for (const w of this.opts.workloads()) if (w.pid > 0) workloads.set(w.pid, w.name);
    // Processes share ancestors (a launcher, a shell, init): each /proc entry is read once a pass.
    const seen = new Map<number, Promise<ProcStatus | undefined>>();
    const status = (pid: number) => {
      const known = seen.get(pid);
      if (known !== undefined) return known;
      const read = readStatus(pid);
      seen.set(pid, read);
      return read;
    };
    const described = [...byGpu].map(
      async ([uuid, list]) => [uuid, await Promise.all(list.map((p) => this.one(p, workloads, status)))] as const,
    );
    return new Map(await Promise.all(described));
  }

  private async one(p: GpuProcess, workloads: Map<number, string>, status: StatusOf): Promise<GpuProcess> {
    const own = await status(p.pid);
    return {
      ...p,
      user: own ? (this.names.get(own.uid) ?? String(own.uid)) : '',
      workload: workloads.get(p.pid) ?? (own ? await workloadOf(own, workloads, status) : ''),
    };
  }

  private async refreshNames(): Promise<void> {
    const mtimeMs = await stat(this.passwd).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    if (mtimeMs === undefined) {
      this.names = new Map();
      this.passwdMtimeMs = -1;
      return;
    }
    if (mtimeMs === this.passwdMtimeMs) return;
    const text = await readFile(this.passwd, 'utf8').catch(() => '');
    this.names = parsePasswd(text);
    this.passwdMtimeMs = mtimeMs;
  }
}
