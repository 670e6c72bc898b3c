import type { HostSample } from '../core/types.js';
import type { AgentHello } from '../gen/switchyard/v1/agent_gateway.js';

/**
 * Distinct strings kept at most; past this the table starts over (its strings stay correct,
 * only shared less). A fleet's vocabulary (GPU models, filesystems, mount points, NIC names,
 * label values, OS releases) is far smaller.
 */
const VOCABULARY_LIMIT = 20_000;

/**
 * One copy of each string that servers repeat. Every hello and every sample arrives with its
 * own copies ("NVIDIA H100 80GB HBM3" eight times a host, "xfs" on each disk), and the registry
 * keeps the hello and each server's latest sample: shared, a 1,000-server fleet holds about
 * 3 MB less. Values unique to a server (GPU UUIDs) are left alone, so they do not crowd the
 * table (latest-sample.ts keeps the first copy of each).
 */
export class SharedStrings {
  private readonly table = new Map<string, string>();

  constructor(private readonly limit = VOCABULARY_LIMIT) {}

  /** The shared copy of `s`. */
  of(s: string): string {
    const known = this.table.get(s);
    if (known !== undefined) return known;
    if (this.table.size >= this.limit) this.table.clear();
    this.table.set(s, s);
    return s;
  }

  /** `hello`'s descriptive strings replaced, in place, by their shared copies. */
  hello(hello: AgentHello): AgentHello {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(hello.labels)) labels[this.of(k)] = this.of(v);
    hello.labels = labels;
    hello.location = this.of(hello.location);
    hello.agentVersion = this.of(hello.agentVersion);
    const { capabilities: caps, host } = hello;
    if (caps) {
      for (const g of caps.gpus) g.name = this.of(g.name);
      caps.migrationStrategies = caps.migrationStrategies.map((s) => this.of(s));
    }
    if (host) {
      host.os = this.of(host.os);
      host.kernel = this.of(host.kernel);
      host.arch = this.of(host.arch);
      host.cpuModel = this.of(host.cpuModel);
    }
    return hello;
  }

  /** `sample`'s strings replaced, in place, by their shared copies. */
  sample(sample: HostSample): HostSample {
    for (const d of sample.disks) {
      d.mount = this.of(d.mount);
      d.fs = this.of(d.fs);
      d.type = this.of(d.type);
    }
    for (const n of sample.nets) n.iface = this.of(n.iface);
    for (const g of sample.gpus) {
      g.name = this.of(g.name);
      for (const p of g.processes) {
        p.name = this.of(p.name);
        p.user = this.of(p.user);
        p.workload = this.of(p.workload);
      }
    }
    return sample;
  }
}
