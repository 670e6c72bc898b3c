import { hostname } from 'node:os';
import type { Lease, Namespace } from 'etcd3';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** The key the leader holds, under the store's prefix, bound to its lease. */
const LEADER_KEY = 'leader';
/** Every controller on the etcd registers here, bound to its lease: gone when it is. */
const MEMBERS = 'members/';

/** A controller on the fleet's etcd, as it registered itself. */
export interface Member {
  id: string;
  address: string;
  /** The addresses and DNS names its certificate holds: what its clients may dial. */
  names: string[];
  host: string;
  pid: number;
  sinceMs: number;
}

export interface LeaderRecord {
  /** This controller process: host, pid, start. */
  id: string;
  /** Where agents and operators reach it. */
  address: string;
  sinceMs: number;
}

export interface LeadershipOptions {
  ns: Namespace;
  /** Lease TTL, seconds: how long etcd keeps a dead leader's key (default 5). */
  ttlSeconds: number;
  log: Logger;
  /** Called once, when this controller can no longer be sure of its lease (leading, or waiting to): it must stop acting now. */
  onLost(why: string): void;
  now?: () => number;
}

/**
 * One leader among the controllers on one etcd: the controller that holds the `leader` key,
 * created only if absent and bound to its lease. The others watch the key and try again when it
 * goes: when the leader resigns (its lease revoked at once) or dies (etcd frees its lease after
 * the TTL).
 *
 * No two leaders: etcd frees a lease TTL seconds after the last keep-alive it *received*; this
 * controller stops leading when two thirds of the TTL have passed since the last keep-alive
 * *answered*, which comes after etcd received it. So a leader cut off from etcd has stopped
 * before its key can go, as long as a round trip to etcd takes under a third of the TTL.
 */
export class Leadership {
  private lease?: Lease;
  private grantedLease?: string;
  private lastAnswerMs = 0;
  private guard?: NodeJS.Timeout;
  private lost = false;
  private closed = false;
  private leading = false;
  /** The controllers registered now, by id, kept by a watch. */
  private readonly members = new Map<string, Member>();
  private membersWatch?: { cancel(): Promise<void> };
  private readonly memberListeners: (() => void)[] = [];
  private readonly now: () => number;
  readonly me: string;

  constructor(private readonly o: LeadershipOptions) {
    this.now = o.now ?? Date.now;
    this.me = `${hostname()}/${process.pid}/${this.now().toString(36)}`;
  }

  /** The leader now, as etcd has it (undefined: none). */
  async leader(): Promise<LeaderRecord | undefined> {
    const text = await this.o.ns.get(LEADER_KEY).string();
    if (!text) return undefined;
    try {
      return JSON.parse(text) as LeaderRecord;
    } catch {
      return undefined;
    }
  }

  /**
   * Resolves when this controller leads, announcing `address`; waits (watching the key) while
   * another does. Rejects only when close() is called first.
   */
  async campaign(
    address: string,
    onLeader: (address: string | undefined) => void = () => undefined,
    names: string[] = [],
  ): Promise<void> {
    const { ns, log } = this.o;
    const lease = ns.lease(this.o.ttlSeconds);
    this.lease = lease;
    lease.on('keepaliveSucceeded', () => {
      this.lastAnswerMs = this.now();
    });
    lease.on('lost', (err) => this.stepDown(`etcd lost this controller's lease (${errorMessage(err)})`));
    const leaseId = await lease.grant();
    this.grantedLease = leaseId;
    this.lastAnswerMs = this.now();
    await this.register(address, names, leaseId);
    let told = '';
    for (;;) {
      if (this.closed) throw new Error('closed before it was elected');
      const record: LeaderRecord = { id: this.me, address, sinceMs: this.now() };
      const res = await ns
        .if(LEADER_KEY, 'Create', '==', 0)
        .then(ns.put(LEADER_KEY).value(JSON.stringify(record)).lease(leaseId))
        .else(ns.get(LEADER_KEY))
        .commit();
      if (res.succeeded) {
        this.leading = true;
        this.watchOwnLease();
        log.info('elected leader', { ttl: `${this.o.ttlSeconds}s` });
        return;
      }
      const other = res.responses[0]?.response_range?.kvs[0]?.value.toString() ?? '';
      let at: string | undefined;
      try {
        at = (JSON.parse(other) as LeaderRecord).address;
      } catch {
        at = undefined;
      }
      onLeader(at);
      if (other !== told) {
        told = other;
        log.info('standby: another controller leads; this one takes over when it goes', { leader: at ?? 'unknown' });
      }
      if (await this.keyGone(Number(res.header.revision) + 1)) onLeader(undefined);
    }
  }

  /** This controller's lease (once campaigning): keys bound to it go when this controller does. */
  get leaseId(): string | undefined {
    return this.grantedLease;
  }

  /** Hears every change to the controllers registered (one joined, one's lease went). */
  onMembers(listener: () => void): void {
    this.memberListeners.push(listener);
  }

  private membersChanged(): void {
    for (const l of this.memberListeners) l();
  }

  /** The controllers on this etcd now, this one first when it leads, then by start. */
  list(): (Member & { leader: boolean })[] {
    return [...this.members.values()]
      .map((m) => ({ ...m, leader: this.leading && m.id === this.me }))
      .sort((a, b) => Number(b.leader) - Number(a.leader) || a.sinceMs - b.sinceMs);
  }

  /** Leaves the leadership at once (the lease is revoked): another controller takes over without waiting for the TTL. */
  async resign(): Promise<void> {
    this.closed = true;
    clearInterval(this.guard);
    await this.membersWatch?.cancel().catch(() => undefined);
    await this.lease?.revoke().catch(() => undefined);
  }

  /** Resolves true when the leader key is deleted, false after a while (the loop then looks again). */
  private async keyGone(fromRevision: number): Promise<boolean> {
    // From just after the read: a delete in between is not missed.
    const watcher = await this.o.ns.watch().key(LEADER_KEY).startRevision(String(fromRevision)).create();
    try {
      return await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 5_000);
        watcher.on('delete', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
    } finally {
      await watcher.cancel().catch(() => undefined);
    }
  }

  /** Puts this controller under members/, bound to its lease, and follows the others there. */
  private async register(address: string, names: string[], leaseId: string): Promise<void> {
    const { ns } = this.o;
    const me: Member = { id: this.me, address, names, host: hostname(), pid: process.pid, sinceMs: this.now() };
    const put = await ns
      .put(`${MEMBERS}${encodeURIComponent(this.me)}`)
      .value(JSON.stringify(me))
      .lease(leaseId)
      .exec();
    const read = (text: string) => {
      try {
        const m = JSON.parse(text) as Member;
        if (typeof m.id !== 'string' || typeof m.address !== 'string') return;
        this.members.set(m.id, {
          ...m,
          names: Array.isArray(m.names) ? m.names.filter((n) => typeof n === 'string') : [],
        });
        this.membersChanged();
      } catch {
        // not a member record: skipped
      }
    };
    for (const text of Object.values(await ns.getAll().prefix(MEMBERS).strings())) read(text);
    const watcher = await ns
      .watch()
      .prefix(MEMBERS)
      .startRevision(String(Number(put.header.revision) + 1))
      .create();
    watcher.on('put', (kv) => read(kv.value.toString()));
    watcher.on('delete', (kv) => {
      this.members.delete(decodeURIComponent(kv.key.toString().slice(MEMBERS.length)));
      this.membersChanged();
    });
    this.membersWatch = watcher;
  }

  private watchOwnLease(): void {
    const limitMs = (this.o.ttlSeconds * 1000 * 2) / 3;
    this.guard = setInterval(() => {
      const quiet = this.now() - this.lastAnswerMs;
      if (quiet > limitMs)
        this.stepDown(
          `etcd has not answered this controller's keep-alive for ${(quiet / 1000).toFixed(1)}s (lease TTL ${this.o.ttlSeconds}s)`,
        );
    }, 100);
    this.guard.unref();
  }

  private stepDown(why: string): void {
    if (this.lost || this.closed) return;
    this.lost = true;
    clearInterval(this.guard);
    this.o.onLost(why);
  }
}
