// A starting agent removes what transfers cut short by its own death left on disk (issue 13):
// archives in its outbox and inbox, and half-unpacked state dirs; a state dir moved aside by a
// swap that never finished is put back, never removed.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTransferLeftovers } from '../../src/agent/checkpoint/leftovers.js';
import { silentLogger } from '../../src/core/log.js';
import { tempDir } from '../helpers/procs.js';

function put(root: string, rel: string, text = 'x'): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
}

describe('leftovers of interrupted transfers', () => {
  it('are removed; the workloads the agent keeps are not touched', async () => {
    const dir = tempDir('yard-leftovers-');
    put(dir, 'outbox/ck-1.tar');
    put(dir, 'inbox/ck-2.tar');
    put(dir, 'workloads/kept/spec.json', '{}');
    put(dir, 'workloads/kept/state/state.json', 'mine');
    put(dir, 'workloads/kept/.state.unpack-abc/pad.bin');
    put(dir, 'workloads/half/.state.unpack-def/pad.bin');
    await removeTransferLeftovers(dir, silentLogger);
    expect(readdirSync(join(dir, 'outbox'))).toEqual([]);
    expect(readdirSync(join(dir, 'inbox'))).toEqual([]);
    expect(readdirSync(join(dir, 'workloads')).sort()).toEqual(['kept']);
    expect(readdirSync(join(dir, 'workloads/kept')).sort()).toEqual(['spec.json', 'state']);
    expect(readFileSync(join(dir, 'workloads/kept/state/state.json'), 'utf8')).toBe('mine');
  });

  it('puts back a state dir a swap had moved aside when the agent died', async () => {
    const dir = tempDir('yard-leftovers-');
    put(dir, 'workloads/w/spec.json', '{}');
    put(dir, 'workloads/w/.state.unpack-xyz/state.json', 'new');
    put(dir, 'workloads/w/.state.unpack-xyz.old/state.json', 'old');
    await removeTransferLeftovers(dir, silentLogger);
    expect(readFileSync(join(dir, 'workloads/w/state/state.json'), 'utf8')).toBe('old');
    expect(readdirSync(join(dir, 'workloads/w')).sort()).toEqual(['spec.json', 'state']);
  });

  it('finds nothing to do in a fresh data dir', async () => {
    const dir = tempDir('yard-leftovers-');
    await removeTransferLeftovers(dir, silentLogger);
    expect(existsSync(join(dir, 'inbox'))).toBe(false);
  });
});
