// What the controller asks a workload's agent to do: start, stop, restart, pause, follow the
// output. Only the service's operations (src/controller/service/) call it.
import { YardError } from '../core/errors.js';
import type { LogSink } from '../core/fleet.js';
import type { Workload, WorkloadSpec } from '../core/workload.js';
import type { ConsoleRequest, WorkloadSignal } from '../gen/switchyard/v1/agent_gateway.js';
import type { AgentLinks } from './agent-links.js';
import type { ConsoleBridge, JoinedConsole } from './consoles.js';
import type { Registry } from './registry.js';
import { isLive, type WorkloadTable } from './workloads.js';

export interface WorkloadCommandsParts {
  registry: Registry;
  workloads: WorkloadTable;
  links: AgentLinks;
  consoles: ConsoleBridge;
}

/** How long an agent has to answer a workload command (a stop waits for the process to end). */
const COMMAND_TIMEOUT_MS = 30_000;

export class WorkloadCommands {
  constructor(private readonly o: WorkloadCommandsParts) {}

  /** Starts `spec` on the server; ALREADY_EXISTS while a workload of that name runs anywhere. */
  async run(serverId: string, spec: WorkloadSpec): Promise<Workload | undefined> {
    const existing = this.o.workloads.instances(spec.name).find(isLive);
    if (existing)
      throw new YardError(
        'ALREADY_EXISTS',
        `a workload named ${spec.name} already runs on ${this.o.registry.get(existing.serverId)?.server.name ?? existing.serverId}: pick another --name`,
      );
    return (await this.send(serverId, { $case: 'start', value: { spec, restore: false, provisional: false } }))
      .workload;
  }

  /** Pauses or resumes the workload at its agent. */
  async signal(name: string, signal: WorkloadSignal): Promise<Workload | undefined> {
    const w = this.o.workloads.find(name);
    return (await this.send(w.serverId, { $case: 'signal', value: { name, signal } })).workload;
  }

  /** Stops the workload where it runs (or last ran); `remove` forgets it there too, state dir and all. */
  async stop(name: string, remove: boolean): Promise<Workload> {
    const w = this.o.workloads.find(name);
    const res = await this.send(w.serverId, { $case: 'stop', value: { name, remove, kill: false } });
    return res.workload ?? w;
  }

  /** Stops the workload if it runs, then starts it again with the same spec on the same server. */
  async restart(name: string): Promise<Workload> {
    const w = this.o.workloads.find(name);
    if (!w.spec)
      throw new YardError('NOT_FOUND', `workload ${name} has no spec on record: run it again with \`yard run\``, {
        workload: name,
      });
    if (isLive(w)) await this.send(w.serverId, { $case: 'stop', value: { name, remove: false, kill: false } });
    const res = await this.send(w.serverId, {
      $case: 'start',
      value: { spec: w.spec, restore: false, provisional: false },
    });
    if (!res.workload) throw new YardError('INTERNAL', `the agent did not say how ${name} started`, { workload: name });
    return res.workload;
  }

  /** The last `tailBytes` of the workload's output (0: all the agent keeps). */
  async tail(name: string, tailBytes: number): Promise<Buffer> {
    const w = this.o.workloads.find(name);
    return Buffer.from((await this.send(w.serverId, { $case: 'logs', value: { name, tailBytes } })).data);
  }

  /**
   * Streams the workload's output into `sink`, from what its agent keeps, then as it comes,
   * until the workload's console closes or the returned function is called.
   */
  async follow(name: string, sink: LogSink): Promise<() => void> {
    const joined = await this.console(name, false, { cols: 0, rows: 0 });
    let open = true;
    const end = (err?: Error) => {
      if (!open) return;
      open = false;
      sink.end(err);
    };
    const pipe = (f: ConsoleRequest) => {
      if (open && f.data.length) sink.data(Buffer.from(f.data));
      if (f.closed) end();
    };
    pipe(joined.first);
    joined.call.on('data', pipe);
    joined.call.on('error', (err: Error) => end(err));
    joined.call.on('end', () => end());
    return () => {
      open = false;
      joined.call.end();
    };
  }

  /** Asks the workload's agent to open a console and waits for it to dial back. */
  async console(name: string, interactive: boolean, size: { cols: number; rows: number }): Promise<JoinedConsole> {
    const w = this.o.workloads.find(name);
    const { sessionId, agent } = this.o.consoles.expect();
    await this.send(w.serverId, { $case: 'console', value: { name, sessionId, interactive, ...size } });
    return agent;
  }

  private send(serverId: string, action: Parameters<AgentLinks['send']>[1]) {
    return this.o.links.send(serverId, action, COMMAND_TIMEOUT_MS, this.o.registry.get(serverId)?.server.name);
  }
}
