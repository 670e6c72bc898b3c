import type { Namespace } from 'etcd3';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';

/** Under the store's prefix: one key per connected agent, bound to the lease of the controller that holds its connection. */
const PRESENCE = 'presence/';
/** Writes are batched: at most this many keys per etcd transaction, at most every this many ms. */
const BATCH = 100;
const BATCH_MS = 100;

/** Where one agent is connected now. */
export interface Presence {
  /** The controller holding the agent's connection (its member id) and its address. */
  controller: string;
  address: string;
  sinceMs: number;
}

/**
 * The presence keys this controller owns: `presence/<serverId>` for each agent connected to it,
 * bound to its lease, so when the controller dies its agents' keys go with it, and every
 * controller can read which agents are connected anywhere, and where. A key is deleted only while
 * it is still this controller's (the agent may already have connected to another).
 */
export class PresenceWriter {
  private readonly pending = new Map<string, string | null>();
  private readonly mine = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private writing = Promise.resolve();

  constructor(
    private readonly o: {
      ns: Namespace;
      leaseId: () => string | undefined;
      me: Omit<Presence, 'sinceMs'>;
      log: Logger;
    },
  ) {}

  /** The agent is connected here; returns what to call when its connection ends. */
  connected(serverId: string): () => void {
    const value = JSON.stringify({ ...this.o.me, sinceMs: Date.now() } satisfies Presence);
    this.mine.set(serverId, value);
    this.pending.set(serverId, value);
    this.soon();
    return () => {
      if (this.mine.get(serverId) !== value) return;
      this.mine.delete(serverId);
      this.pending.set(serverId, null);
      this.soon();
    };
  }

  /** Writes what is pending now (tests, shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.write());
    await this.writing;
  }

  private soon(): void {
    this.timer ??= setTimeout(() => void this.flush(), BATCH_MS);
  }

  private async write(): Promise<void> {
    const leaseId = this.o.leaseId();
    const { ns } = this.o;
    const batch = [...this.pending].slice(0, BATCH);
    if (!leaseId || batch.length === 0) return;
    for (const [id] of batch) this.pending.delete(id);
    try {
      const puts = batch.filter(([, v]) => v !== null);
      const deletes = batch.filter(([, v]) => v === null).map(([id]) => id);
      // A condition that always holds: etcd3's builder makes a transaction only from an `if`.
      if (puts.length > 0)
        await ns
          .if(PRESENCE + encodeURIComponent(puts[0]![0]), 'Create', '>', -1)
          .then(
            ...puts.map(([id, v]) =>
              ns
                .put(PRESENCE + encodeURIComponent(id))
                .value(v!)
                .lease(leaseId),
            ),
          )
          .commit();
      // Only a key still holding this controller's record goes (another may hold the agent now).
      for (const id of deletes) {
        await ns
          .if(PRESENCE + encodeURIComponent(id), 'Lease', '==', leaseId)
          .then(ns.delete().key(PRESENCE + encodeURIComponent(id)))
          .commit();
      }
    } catch (err) {
      for (const [id, v] of batch) if (!this.pending.has(id)) this.pending.set(id, v);
      this.o.log.warn('could not write agent presence to etcd; retrying', { error: errorMessage(err) });
    }
    if (this.pending.size > 0) this.soon();
  }
}

/** Every agent's presence, kept by a watch: how many agents each controller holds the connection of. */
export async function watchPresence(
  ns: Namespace,
  log: Logger,
): Promise<{ agentsOf(controller: string): number; close(): Promise<void> }> {
  const known = new Map<string, Presence>();
  const read = (key: string, text: string) => {
    try {
      const p = JSON.parse(text) as Presence;
      if (typeof p.controller === 'string' && typeof p.address === 'string') known.set(key, p);
    } catch {
      // not a presence record: skipped
    }
  };
  // etcd3's namespace gives keys without its prefix.
  const idOf = (key: Buffer) => decodeURIComponent(key.toString().slice(PRESENCE.length));
  const res = await ns.getAll().prefix(PRESENCE).exec();
  for (const kv of res.kvs) read(idOf(kv.key), kv.value.toString());
  const watcher = await ns
    .watch()
    .prefix(PRESENCE)
    .startRevision(String(Number(res.header.revision) + 1))
    .create();
  watcher.on('put', (kv) => read(idOf(kv.key), kv.value.toString()));
  watcher.on('delete', (kv) => known.delete(idOf(kv.key)));
  watcher.on('error', (err) => log.warn('presence watch failed', { error: errorMessage(err) }));
  return {
    agentsOf: (controller) => {
      let n = 0;
      for (const p of known.values()) if (p.controller === controller) n++;
      return n;
    },
    close: () => watcher.cancel(),
  };
}
