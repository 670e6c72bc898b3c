import { execFileSync } from 'node:child_process';

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

export function createHosts(count: number): { hosts: TestHost[]; destroy(): void } {
  const tag = (process.pid % 10000).toString(36);
  const subnet = 200 + (process.pid % 50);
  const hosts: TestHost[] = [];
  const destroy = () => {
    for (const h of hosts) {
      try {
        ip('netns', 'del', h.ns);
      } catch {
        // already gone
      }
    }
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
