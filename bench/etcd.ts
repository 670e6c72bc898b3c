// A real etcd on loopback ports, for the etcd store's tests and the bench's etcd step.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitUntil } from './lib.js';

/** Debian's etcd-server puts `etcd` on the PATH; suites that need it skip without it. */
export const etcdAvailable = spawnSync('etcd', ['--version'], { stdio: 'ignore' }).status === 0;

interface Member {
  name: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  child?: ChildProcess;
  output: string;
}

/**
 * A real etcd on loopback ports: one member or a cluster of several, each with its own data dir.
 * The data dirs go on tmpfs where there is one: etcd syncs its log on every write, and the tests
 * measure the store, not the disk.
 */
export class EtcdCluster {
  private constructor(
    private readonly members: Member[],
    private readonly root: string,
    /** Addresses of this machine, besides 127.0.0.1, the members also serve clients on (test namespaces' gateways). */
    private readonly clientHosts: string[],
    /** Clients speak TLS and must present a certificate from `caFile` (the members' own files). */
    private readonly tls?: EtcdTls,
  ) {}

  /** Client endpoints, host:port, as `--store etcd://…` and etcd3's `hosts` take them. */
  get endpoints(): string[] {
    return this.endpointsOn('127.0.0.1');
  }

  /** The same on another address it serves clients on (given to start()). */
  endpointsOn(host: string): string[] {
    return this.members.map((m) => `${host}:${m.clientPort}`);
  }

  /** Each running member's pid (the bench watches their CPU and memory). */
  get pids(): number[] {
    return this.members.flatMap((m) => (m.child?.pid === undefined ? [] : [m.child.pid]));
  }

  /** `clientHosts`: more local addresses to serve clients on, for controllers in test namespaces. */
  static async start(size = 1, clientHosts: string[] = [], tls?: EtcdTls): Promise<EtcdCluster> {
    const root = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'yard-etcd-'));
    const members: Member[] = [];
    for (let i = 0; i < size; i++)
      members.push({
        name: `m${i}`,
        dataDir: join(root, `m${i}`),
        clientPort: await freePort(),
        peerPort: await freePort(),
        output: '',
      });
    const cluster = new EtcdCluster(members, root, clientHosts, tls);
    // A process that dies without its cleanup still takes its members and their data with it.
    process.once('exit', () => {
      for (const m of members) m.child?.kill('SIGKILL');
      rmSync(root, { recursive: true, force: true });
    });
    try {
      for (const m of members) cluster.spawn(m);
      for (const m of members) await cluster.healthy(m);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /**
   * Counters from member `i`'s Prometheus endpoint (/metrics on its client port), by name: the
   * plain, unlabelled samples only (`name value` lines); NaN for a name it did not print.
   */
  async counters(names: readonly string[], i = 0): Promise<Record<string, number>> {
    const res = await fetch(`http://127.0.0.1:${this.member(i).clientPort}/metrics`, {
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    const found: Record<string, number> = Object.fromEntries(names.map((n) => [n, Number.NaN]));
    for (const line of text.split('\n')) {
      const [name, value] = line.split(' ');
      if (name !== undefined && name in found) found[name] = Number(value);
    }
    return found;
  }

  /** SIGKILL, as a crash: no clean shutdown of the member's raft state. */
  async kill(i: number): Promise<void> {
    const m = this.member(i);
    const child = m.child;
    m.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts a killed member again on its data dir and ports, and waits until it serves. */
  async restart(i: number): Promise<void> {
    const m = this.member(i);
    if (m.child) throw new Error(`etcd member ${m.name} is still running`);
    this.spawn(m);
    await this.healthy(m);
  }

  /** Kills every member and removes the data dirs; safe to call twice. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) await this.kill(i);
    rmSync(this.root, { recursive: true, force: true });
  }

  private member(i: number): Member {
    const m = this.members[i];
    if (!m) throw new Error(`no etcd member ${i} (the cluster has ${this.members.length})`);
    return m;
  }

  private spawn(m: Member): void {
    const peers = this.members.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(',');
    const scheme = this.tls ? 'https' : 'http';
    const client = `${scheme}://127.0.0.1:${m.clientPort}`;
    const listenClients = [client, ...this.clientHosts.map((h) => `${scheme}://${h}:${m.clientPort}`)].join(',');
    const peer = `http://127.0.0.1:${m.peerPort}`;
    // Short raft timers: a killed leader is replaced in about a second instead of ten.
    const args = [
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${listenClients}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${peers}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=yard-test-${this.members[0]!.clientPort}`,
      '--heartbeat-interval=50',
      '--election-timeout=500',
      ...(this.tls
        ? [
            `--cert-file=${this.tls.certFile}`,
            `--key-file=${this.tls.keyFile}`,
            `--trusted-ca-file=${this.tls.caFile}`,
            '--client-cert-auth',
          ]
        : []),
      '--logger=zap',
      '--log-level=warn',
    ];
    const child = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    m.output = '';
    child.stdout!.on('data', (d: Buffer) => (m.output = (m.output + d.toString()).slice(-4000)));
    child.stderr!.on('data', (d: Buffer) => (m.output = (m.output + d.toString()).slice(-4000)));
    m.child = child;
  }

  /** etcd's /health answers true once the member has a leader and serves reads. */
  private async healthy(m: Member): Promise<void> {
    const child = m.child!;
    const exited = new Promise<never>((_, rej) =>
      child.once('exit', (code, signal) =>
        rej(new Error(`etcd member ${m.name} exited (${signal ?? code}) before it was healthy:\n${m.output}`)),
      ),
    );
    exited.catch(() => undefined);
    const ready = waitUntil(
      `etcd member ${m.name} on port ${m.clientPort} to be healthy`,
      async () => {
        const body = this.tls
          ? await httpsJson(`https://127.0.0.1:${m.clientPort}/health`, this.tls)
          : ((await (
              await fetch(`http://127.0.0.1:${m.clientPort}/health`, { signal: AbortSignal.timeout(1000) })
            ).json()) as { health?: string });
        return body.health === 'true' || undefined;
      },
      20_000,
      100,
    );
    ready.catch(() => undefined);
    await Promise.race([
      ready.catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; its output:\n${m.output}`);
      }),
      exited,
    ]);
  }
}

/** A member's TLS files (PEM): its certificate and key, and the CA its clients' certificates must come from. */
export interface EtcdTls {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/** /health over TLS with the member's own certificate as the client's (the CA signed it for both uses). */
function httpsJson(url: string, tls: EtcdTls): Promise<{ health?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(
      url,
      { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), timeout: 1000 },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          try {
            resolve(JSON.parse(text) as { health?: string });
          } catch (err) {
            reject(err as Error);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
