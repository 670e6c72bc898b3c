import { EventEmitter } from 'node:events';
import { errorMessage } from '../core/errors.js';
import type { AuditEntry } from '../gen/switchyard/v1/control.js';
import type { Store } from './store.js';

export type { AuditEntry };

/**
 * The audit trail: every mutating action with who asked, when, what of, and how it ended.
 * Kept in the store (the newest AUDIT_HISTORY entries), so it outlives the controller.
 */
export class AuditLog extends EventEmitter<{ entry: [AuditEntry] }> {
  constructor(
    private readonly store: Store,
    /** Called when an entry could not be written at once, so the store is written again soon. */
    private readonly changed: () => void,
  ) {
    super();
    // One listener per fleet watcher: every dashboard and CLI watching, however many.
    this.setMaxListeners(0);
  }

  /** Runs `act` for `who`, records the outcome, and passes its result or error through. */
  async record<T>(who: string, action: string, target: string, act: () => T | Promise<T>): Promise<T> {
    const atMs = Date.now();
    let result: T;
    try {
      result = await act();
    } catch (err) {
      await this.add({ atMs, who, action, target, ok: false, error: errorMessage(err) });
      throw err;
    }
    await this.add({ atMs, who, action, target, ok: true, error: '' });
    return result;
  }

  /** Newest first; `limit` 0 means every entry kept. */
  list(limit = 0): AuditEntry[] {
    return this.store.audit(limit);
  }

  /**
   * The entry is in the store's backend (the file, or etcd) before the caller hears how its
   * action ended; if that write fails, the store is written again soon.
   */
  private async add(entry: AuditEntry): Promise<void> {
    this.store.putAudit(entry);
    this.emit('entry', entry);
    await this.store.flush().catch(() => this.changed());
  }
}
