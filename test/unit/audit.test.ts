import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/controller/audit.js';
import { AUDIT_HISTORY, Store } from '../../src/controller/store.js';
import { YardError } from '../../src/core/errors.js';

const storeFile = () => join(mkdtempSync(join(tmpdir(), 'yard-audit-')), 'store.json');

describe('AuditLog', () => {
  it('records who did what and how it ended, passing results and errors through, on disk before it answers', async () => {
    const file = storeFile();
    const store = await Store.open({ file });
    let writes = 0;
    const audit = new AuditLog(store, () => writes++);
    await expect(audit.record('alice', 'migration.start', 'job → gpu-2', () => 42)).resolves.toBe(42);
    await expect(
      audit.record('token:default', 'workload.stop', 'web', async () => {
        throw new YardError('NOT_FOUND', 'no workload "web"');
      }),
    ).rejects.toThrow('no workload "web"');
    expect(audit.list()).toEqual([
      {
        atMs: expect.any(Number),
        who: 'token:default',
        action: 'workload.stop',
        target: 'web',
        ok: false,
        error: 'no workload "web"',
      },
      { atMs: expect.any(Number), who: 'alice', action: 'migration.start', target: 'job → gpu-2', ok: true, error: '' },
    ]);
    expect(audit.list(1)).toHaveLength(1);
    // Both in the file already, with no write left to retry.
    expect((await Store.open({ file })).audit()).toHaveLength(2);
    expect(writes).toBe(0);
  });

  it('keeps the newest entries only, across a reopen of the store', async () => {
    const file = storeFile();
    const store = await Store.open({ file });
    const audit = new AuditLog(store, () => undefined);
    for (let i = 0; i < AUDIT_HISTORY + 25; i++) await audit.record('bob', 'workload.pause', `w${i}`, () => undefined);
    await store.flush();
    const again = new AuditLog(await Store.open({ file }), () => undefined);
    const all = again.list();
    expect(all).toHaveLength(AUDIT_HISTORY);
    expect(all[0]!.target).toBe(`w${AUDIT_HISTORY + 24}`);
    expect(all.at(-1)!.target).toBe('w25');
  });

  it('tells every watcher of each entry, however many watch, without a listener-leak warning', async () => {
    const audit = new AuditLog(await Store.open({ file: storeFile() }), () => undefined);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const heard = Array.from({ length: 50 }, () => [] as string[]);
      for (const h of heard) audit.on('entry', (e) => h.push(e.target));
      await audit.record('carol', 'route.weight', 'web: v2=40', () => undefined);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(heard.every((h) => h.length === 1 && h[0] === 'web: v2=40')).toBe(true);
      expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
