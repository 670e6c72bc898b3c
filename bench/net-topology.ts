// The bench's network: three hosts (`ctl`, `a`, `b`), each in a network namespace of its own,
// on one bridge that sits in a fourth namespace (the switch), with every link shaped by tbf in
// both directions: the controller's host on 100 Mbit/s (an operator's box in the NOC), the two
// agent hosts on 1 Gbit/s. Nothing is made in the root namespace: no interface, address, route
// or qdisc, so the topology cannot collide with the tests' namespaces (10.200–10.249, routed
// from the root namespace) or another bench run, and deleting the four namespaces removes it
// all (the bridge and each veth pair go with them).
//
//   ctl 10.77.0.1  eth0 ══veth══ p-ctl ─┐
//   a   10.77.0.2  eth0 ══veth══ p-a ───┼─ br0   (namespace yardnet13-<pid>-sw)
//   b   10.77.0.3  eth0 ══veth══ p-b ───┘
//   (each host in namespace yardnet13-<pid>-<host>)
//
// A host's `eth0` egress qdisc shapes what it sends; the switch side's egress qdisc shapes what
// it receives. Needs root (CAP_NET_ADMIN) and iproute2.
import { execFileSync } from 'node:child_process';

export type HostName = 'ctl' | 'a' | 'b';

export interface NetHost {
  name: HostName;
  /** The namespace, for `ip netns exec`. */
  ns: string;
  /** Its address on the bridge. */
  address: string;
  /** The link's shaped rate, each way, bits per second. */
  rateBps: number;
  /** Prefix that runs a command inside the host (`ip netns exec NS`, which execs: the pid is the command's). */
  wrap: string[];
}

export interface NetTopology {
  hosts: Record<HostName, NetHost>;
  /** The switch's namespace (the bridge, and each link's far end, `p-<host>`). */
  switchNs: string;
  /** Each host's tbf as set, `ctl 100mbit/96kb/25ms` (rate/burst/latency), for the report. */
  shaping: string[];
  /** Removes everything the topology made; safe to call twice. */
  destroy(): void;
}

/**
 * tbf per link. `rate` is counted on whole frames (Ethernet header and all), so TCP payload gets
 * 1448/1514 ≈ 95.6 % of it at MTU 1500 with timestamps: 100 Mbit/s carries ≈ 95.6 Mbit/s
 * (11.4 MiB/s, 11.95 MB/s) of data.
 *
 * `burst` is the bucket: how many bytes may leave back to back at the veth's (unbounded) speed.
 * It must hold a whole GSO packet (64 KiB plus headers): a packet larger than the bucket is cut
 * into segments by tbf, which costs CPU on a 2-core machine. Above that, about 2 ms of the rate
 * lets tbf's timer wake late (a VM's hrtimer fires tens to hundreds of µs late) without losing
 * rate: 1 Gbit/s × 2 ms = 250 KB → 256 KiB. At 100 Mbit/s 2 ms is only 25 KB, so the GSO floor
 * rules: 96 KiB (7.9 ms of the rate, 0.04 % of a 200 MB copy).
 *
 * `latency` bounds the queue behind the bucket (limit = rate × latency + burst). Between
 * namespaces the path's own RTT is well under a millisecond, so any queue above a few ms covers
 * the bandwidth-delay product and TCP keeps the link full; more only adds queueing delay. The
 * sender's own `eth0` never fills (TCP small queues hold the socket back); the switch's port
 * toward `ctl` does when a 1 Gbit/s host sends to it, and drops past the limit there as a real
 * switch port would: 25 ms (≈ 310 KB at 100 Mbit/s) and 10 ms (≈ 1.25 MB at 1 Gbit/s), buffers
 * of the order a LAN switch has.
 */
export const LINKS: Record<HostName, { octet: number; rate: string; rateBps: number; burst: string; latency: string }> =
  {
    ctl: { octet: 1, rate: '100mbit', rateBps: 100e6, burst: '96kb', latency: '25ms' },
    a: { octet: 2, rate: '1gbit', rateBps: 1e9, burst: '256kb', latency: '10ms' },
    b: { octet: 3, rate: '1gbit', rateBps: 1e9, burst: '256kb', latency: '10ms' },
  };

/** 10.77.0.0/24: outside what tests use (10.200–10.249), and only ever inside our namespaces. */
const SUBNET = '10.77.0';
/** Every namespace of ours starts with this; the pid after it says whose it is (stale ones are swept). */
const PREFIX = 'yardnet13-';

/** The switch's port toward a host: its end of the host's veth. */
const port = (host: HostName) => `p-${host}`;

const live = new Set<NetTopology>();

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Whether the topology can be made here (root with CAP_NET_ADMIN, iproute2 and tbf present). */
export function netTopologyAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tc)';
  try {
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
    ip('-V');
  } catch {
    return 'needs iproute2 (ip, tc)';
  }
  return undefined;
}

/** Builds the topology; on any failure removes what it made and throws. */
export function buildNetTopology(): NetTopology {
  sweepStale();
  const tag = `${PREFIX}${process.pid}-`;
  const sw = `${tag}sw`;
  const made: string[] = [];
  const shaping: string[] = [];
  const topo: NetTopology = {
    hosts: {} as Record<HostName, NetHost>,
    switchNs: sw,
    shaping,
    destroy() {
      // Hosts first, the switch last: a host's veth pair goes with either end's namespace.
      for (const ns of [...made].reverse()) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // already gone
        }
      }
      made.length = 0;
      live.delete(topo);
    },
  };
  live.add(topo);
  guardOnce();
  try {
    ip('netns', 'add', sw);
    made.push(sw);
    ip('-n', sw, 'link', 'set', 'lo', 'up');
    ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const name of Object.keys(LINKS) as HostName[]) {
      const link = LINKS[name];
      const ns = `${tag}${name}`;
      const address = `${SUBNET}.${link.octet}`;
      ip('netns', 'add', ns);
      made.push(ns);
      // Made from inside the switch: the pair never has a name in the root namespace.
      ip('-n', sw, 'link', 'add', 'name', port(name), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('-n', sw, 'link', 'set', 'dev', port(name), 'master', 'br0');
      ip('-n', sw, 'link', 'set', 'dev', port(name), 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      const tbf = ['root', 'tbf', 'rate', link.rate, 'burst', link.burst, 'latency', link.latency];
      // Its uploads (leaving eth0) and its downloads (leaving the switch's port toward it).
      execFileSync('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'eth0', ...tbf], { stdio: ['ignore', 'ignore', 'pipe'] });
      execFileSync('tc', ['-n', sw, 'qdisc', 'add', 'dev', port(name), ...tbf], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      shaping.push(`${name} ${link.rate}/${link.burst}/${link.latency}`);
      topo.hosts[name] = { name, ns, address, rateBps: link.rateBps, wrap: ['ip', 'netns', 'exec', ns] };
    }
  } catch (err) {
    topo.destroy();
    const e = err as Error & { stderr?: Buffer };
    throw new Error(`could not build the bench network: ${e.stderr?.toString().trim() || e.message}`);
  }
  return topo;
}

/** Removes every topology this process still holds (synchronous: fit for 'exit'). */
export function destroyNetTopologies(): void {
  for (const t of [...live]) t.destroy();
}

/** What tc counted on a host's link so far: [its uploads, its downloads], bytes sent and packets dropped by each tbf. */
export function tbfStats(
  topo: NetTopology,
  name: HostName,
): { sentBytes: number; dropped: number; overlimits: number }[] {
  const read = (ns: string, dev: string) => {
    const out = execFileSync('tc', ['-n', ns, '-s', 'qdisc', 'show', 'dev', dev], { encoding: 'utf8' });
    const m = /Sent (\d+) bytes \d+ pkt \(dropped (\d+), overlimits (\d+)/.exec(out);
    return { sentBytes: Number(m?.[1] ?? 0), dropped: Number(m?.[2] ?? 0), overlimits: Number(m?.[3] ?? 0) };
  };
  return [read(topo.hosts[name].ns, 'eth0'), read(topo.switchNs, port(name))];
}

/** Namespaces of ours left by a run that died (SIGKILL skips every handler): their owner pid is gone. */
function sweepStale(): void {
  let names: string[] = [];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const ns of names) {
    const pid = Number(ns.slice(PREFIX.length).split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || alive(pid))) continue;
    try {
      ip('netns', 'del', ns);
    } catch {
      // someone else got it
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let guarded = false;
/**
 * Tears the topology down however the process ends: on 'exit' always; on a signal too when
 * nobody else handles it (the bench's run.ts does, and exits through 'exit').
 */
function guardOnce(): void {
  if (guarded) return;
  guarded = true;
  process.on('exit', destroyNetTopologies);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(sig) > 0) continue;
    process.once(sig, () => {
      destroyNetTopologies();
      process.exit(130);
    });
  }
}
