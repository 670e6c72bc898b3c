import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/controller/store.js';
import { ServerState } from '../../src/core/types.js';

const dir = () => mkdtempSync(join(tmpdir(), 'yard-store-'));
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'stores');
const copies = (d: string) => readdirSync(d).filter((f) => f.startsWith('store.json.corrupt-'));
const mode = (path: string) => statSync(path).mode & 0o777;

/** A data dir holding the named fixture as its store.json. */
function withFixture(name: string): { d: string; file: string } {
  const d = dir();
  const file = join(d, 'store.json');
  copyFileSync(join(FIXTURES, name), file);
  return { d, file };
}

describe('Store', () => {
  it('keeps servers across reopen (a real file, not in-memory under NODE_ENV=test)', async () => {
    const file = join(dir(), 'store.json');
    const a = await Store.open({ file });
    a.putServer({
      id: 's1',
      name: 'gpu-01',
      hostname: 'gpu-01',
      addresses: [],
      mac: '',
      labels: { gpu: 'h100' },
      location: '',
      agentVersion: '0.1.0',
      advertiseAddress: '',
      transferAddress: '',
      cordoned: false,
      state: ServerState.SERVER_STATE_ONLINE,
      firstSeenMs: 1,
      lastSeenMs: 2,
      stateSinceMs: 2,
    });
    await a.flush();
    const b = await Store.open({ file });
    expect(b.controllerId).toBe(a.controllerId);
    expect(b.servers()).toEqual([
      expect.objectContaining({ id: 's1', name: 'gpu-01', labels: { gpu: 'h100' }, lastSeenMs: 2 }),
    ]);
    expect(b.servers()[0]).not.toHaveProperty('state');
  });

  it('opens a store holding every kind of record, and writes it back the same', async () => {
    const { file } = withFixture('valid.json');
    const s = await Store.open({ file });
    expect(s.migrations().map((m) => m.id)).toEqual(['m1']);
    expect(s.routes().map((r) => r.name)).toEqual(['web']);
    await s.flush();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(
      JSON.parse(readFileSync(join(FIXTURES, 'valid.json'), 'utf8')),
    );
  });

  // Each of these once passed the start-up check (or was replaced without a copy) and then
  // failed every ListMigrations with "Error serializing response".
  const corrupt: [fixture: string, message: RegExp][] = [
    ['null.json', /is not a store \(.*expected object, received null\)/],
    ['not-json.json', /is not valid JSON/],
    ['empty.json', /is not valid JSON/],
    ['created-ms-string.json', /has a bad field: migrations\.m1\.createdMs .*expected number, received string/],
    ['migration-missing-fields.json', /has a bad field: migrations\.m1\.sourceServerId is required/],
    ['unknown-phase.json', /has a bad field: migrations\.m1\.phase /],
    ['route-weight-string.json', /has a bad field: routes\.web\.backends\[0\]\.weight /],
    ['migration-under-wrong-id.json', /has a bad field: migrations\.m2\.id must equal its key "m2"/],
  ];
  it.each(corrupt)(
    'refuses %s with STORE_CORRUPT naming the file and field, keeps a copy, changes nothing',
    async (fixture, message) => {
      const { d, file } = withFixture(fixture);
      const before = readFileSync(file, 'utf8');
      const err = await Store.open({ file }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_CORRUPT' });
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(`store file ${file} `);
      expect((err as Error).message).toMatch(/a copy was kept at .*store\.json\.corrupt-.*--reset-store/);
      expect(readFileSync(file, 'utf8')).toBe(before);
      expect(copies(d)).toHaveLength(1);
      expect(readFileSync(join(d, copies(d)[0]!), 'utf8')).toBe(before);
    },
  );

  it('starts clean with --reset-store, still keeping the corrupt copy', async () => {
    const { d, file } = withFixture('created-ms-string.json');
    const s = await Store.open({ file, reset: true });
    expect(s.servers()).toEqual([]);
    expect(s.migrations()).toEqual([]);
    expect(s.resetFrom).toMatch(/store\.json\.corrupt-/);
    expect(readFileSync(s.resetFrom!, 'utf8')).toBe(readFileSync(join(FIXTURES, 'created-ms-string.json'), 'utf8'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, servers: {} });
    expect(copies(d)).toHaveLength(1);
    await expect(Store.open({ file })).resolves.toBeInstanceOf(Store);
  });

  describe('under umask 022', () => {
    let umask: number;
    beforeAll(() => {
      umask = process.umask(0o022);
    });
    afterAll(() => {
      process.umask(umask);
    });

    it('keeps the store, its temp file, corrupt copies and the data dir owner-only', async () => {
      const d = join(dir(), 'data');
      const file = join(d, 'store.json');
      const s = await Store.open({ file });
      await s.flush();
      expect(mode(d)).toBe(0o700);
      expect(mode(file)).toBe(0o600);

      // A temp file left readable by a crash is not reused as it is.
      writeFileSync(join(d, '.store.json.tmp'), 'x', { mode: 0o644 });
      await s.flush();
      expect(mode(file)).toBe(0o600);

      writeFileSync(file, 'null', { mode: 0o644 });
      await Store.open({ file, reset: true });
      expect(mode(join(d, copies(d)[0]!))).toBe(0o600);
      expect(mode(file)).toBe(0o600);
    });

    it('tightens a data dir and store an older version left readable by all', async () => {
      const d = join(dir(), 'data');
      mkdirSync(d, { mode: 0o755 });
      const file = join(d, 'store.json');
      copyFileSync(join(FIXTURES, 'valid.json'), file);
      expect(mode(file)).toBe(0o644);
      await Store.open({ file });
      expect(mode(d)).toBe(0o700);
      expect(mode(file)).toBe(0o600);
    });

    it('refuses a shared directory such as /tmp as the data dir', async () => {
      const d = join(dir(), 'shared');
      mkdirSync(d, { mode: 0o777 });
      await import('node:fs/promises').then((fs) => fs.chmod(d, 0o1777));
      await expect(Store.open({ file: join(d, 'store.json') })).rejects.toThrow(
        /data dir .*shared is a shared directory .*--data-dir a directory of its own/,
      );
    });
  });
});
