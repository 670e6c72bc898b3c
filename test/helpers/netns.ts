import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test hosts in network namespaces this test creates: each has its own network stack and a veth
 * link to the test's namespace, so agents in them are really different hosts to the controller.
 * Only addresses inside these namespaces are used.
 */
export interface TestHost {
  ns: string;
  /** The controller's address as this host sees it (our end of its veth). */
  gateway: string;
  /** Prefix for spawning a command inside the host. */
  wrap: string[];
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Whether namespaces can be made here (root with CAP_NET_ADMIN, iproute2 present). */
export function netnsAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `yard-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return true;
  } catch {
    return false;
  }
}

const SUBNETS = 50;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes the lock file of a subnet; a lock left by a process that is gone is taken over. */
function lockSubnet(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const owner = Number(readFileSync(lock, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      rmSync(lock, { force: true });
    }
  }
  return false;
}

/**
 * A 10.x subnet (x in 200–249) no other test holds: test files run in parallel workers, and two
 * that put the same subnet on two veths of this namespace route each other's hosts away.
 */
function claimSubnet(): { subnet: number; release(): void } {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let k = 0; k < SUBNETS; k++) {
    const subnet = 200 + ((process.pid + k) % SUBNETS);
    // Shared by every run on this machine, not the run's own temporary directory: two runs at once
    // must not claim the same subnet.
    const lock = join(process.env.YARD_TEST_SHARED_TMP ?? tmpdir(), `yard-test-netns-10.${subnet}.lock`);
    if (!lockSubnet(lock)) continue;
    if (routes.includes(`10.${subnet}.`)) {
      rmSync(lock, { force: true });
      continue;
    }
    return { subnet, release: () => rmSync(lock, { force: true }) };
  }
  throw new Error(
    'no free subnet in 10.200.0.0–10.249.255.255 for test namespaces: remove stale yard-* namespaces (`ip netns list`)',
  );
}

export function createHosts(count: number): { hosts: TestHost[]; destroy(): void } {
  const tag = (process.pid % 10000).toString(36);
  const { subnet, release } = claimSubnet();
  const hosts: TestHost[] = [];
  const destroy = () => {
    for (const h of hosts) {
      try {
        ip('netns', 'del', h.ns);
      } catch {
        // already gone
      }
    }
    release();
  };
  try {
    for (let i = 0; i < count; i++) {
      const ns = `yard-${tag}-${i}`;
      const veth = `vy${tag}${i}`;
      const gateway = `10.${subnet}.${i}.1`;
      ip('netns', 'add', ns);
      hosts.push({ ns, gateway, wrap: ['ip', 'netns', 'exec', ns] });
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('addr', 'add', `${gateway}/24`, 'dev', veth);
      ip('link', 'set', veth, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `10.${subnet}.${i}.2/24`, 'dev', 'eth0');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { hosts, destroy };
}
