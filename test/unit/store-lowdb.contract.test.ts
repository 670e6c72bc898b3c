import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { Store } from '../../src/controller/store.js';
import { LowdbFleetStore } from '../../src/controller/store-lowdb.js';
import { storeContract } from './store-contract.js';

const dirs: string[] = [];
const RAW_SLOT = 'where the raw text of the corrupt record is written';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// One Store per backend, as one controller process holds one file; each open() is another view
// of it. A corrupt file is read again from disk, as a restarted controller would.
storeContract('lowdb', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'yard-store-contract-'));
  dirs.push(dir);
  const file = join(dir, 'store.json');
  let store: Store | undefined;
  return {
    open: async () => {
      store ??= await Store.open({ file });
      return new LowdbFleetStore(store);
    },
    corruptMigration: async (id, value) => {
      // Written as raw text in place of the record: `value` need not even be JSON.
      const data = JSON.parse(readFileSync(file, 'utf8'));
      data.migrations[id] = RAW_SLOT;
      writeFileSync(file, JSON.stringify(data, null, 2).replace(JSON.stringify(RAW_SLOT), value));
      store = undefined;
      return new RegExp(`store file ${escapeRe(file)} (has a bad field: migrations\\.${id}\\b|is not valid JSON)`);
    },
  };
});
