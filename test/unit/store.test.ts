import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../src/controller/store.js';
import { ServerState } from '../../src/core/types.js';

const dir = () => mkdtempSync(join(tmpdir(), 'yard-store-'));

describe('Store', () => {
  it('keeps servers across reopen (a real file, not in-memory under NODE_ENV=test)', async () => {
    const file = join(dir(), 'store.json');
    const a = await Store.open({ file });
    a.putServer({ id: 's1', name: 'gpu-01', hostname: 'gpu-01', addresses: [], mac: '', labels: { gpu: 'h100' }, location: '', agentVersion: '0.1.0', advertiseAddress: '', state: ServerState.SERVER_STATE_ONLINE, firstSeenMs: 1, lastSeenMs: 2, stateSinceMs: 2 });
    await a.flush();
    const b = await Store.open({ file });
    expect(b.controllerId).toBe(a.controllerId);
    expect(b.servers()).toEqual([expect.objectContaining({ id: 's1', name: 'gpu-01', labels: { gpu: 'h100' }, lastSeenMs: 2 })]);
    expect(b.servers()[0]).not.toHaveProperty('state');
  });

  it('refuses a corrupt file with an error naming it, keeps a copy, and changes nothing', async () => {
    const d = dir();
    const file = join(d, 'store.json');
    writeFileSync(file, '{"version":1,"servers":{"a":');
    await expect(Store.open({ file })).rejects.toThrow(new RegExp(`store file ${file} is not valid JSON.*copy was kept at .*--reset-store`));
    expect(readFileSync(file, 'utf8')).toBe('{"version":1,"servers":{"a":');
    const copies = readdirSync(d).filter((f) => f.startsWith('store.json.corrupt-'));
    expect(copies).toHaveLength(1);
    expect(readFileSync(join(d, copies[0]!), 'utf8')).toBe('{"version":1,"servers":{"a":');
  });

  it('refuses valid JSON of the wrong shape, naming the field', async () => {
    const file = join(dir(), 'store.json');
    writeFileSync(file, JSON.stringify({ version: 1, controllerId: 'x', servers: { a: { id: 'a' } } }));
    await expect(Store.open({ file })).rejects.toThrow(/unexpected content \(servers\.a\.name/);
  });

  it('starts clean with --reset-store, still keeping the corrupt copy', async () => {
    const d = dir();
    const file = join(d, 'store.json');
    writeFileSync(file, 'garbage');
    const s = await Store.open({ file, reset: true });
    expect(s.servers()).toEqual([]);
    expect(s.resetFrom).toMatch(/store\.json\.corrupt-/);
    expect(readFileSync(s.resetFrom!, 'utf8')).toBe('garbage');
    expect(JSON.parse(readFileSync(file, 'utf8')).version).toBe(1);
  });
});
