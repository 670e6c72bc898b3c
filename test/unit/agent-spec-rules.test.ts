// The agent's own supervisor refuses what `yard run` and the controller refuse, with the same
// words: a spec reaches it from the controller or from a spec.json on disk, not only via the CLI.
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Supervisor } from '../../src/agent/workloads/supervisor.js';
import { YardError } from '../../src/core/errors.js';
import { createLogger, silentLogger } from '../../src/core/log.js';
import type { WorkloadSpec } from '../../src/core/workload.js';
import { tempDir } from '../helpers/procs.js';
import { workloadSpec } from '../helpers/specs.js';

let dataDir: string;
let ok: string;
const open: Supervisor[] = [];

beforeEach(() => {
  dataDir = tempDir();
  ok = join(dataDir, 'ok.sh');
  writeFileSync(ok, '#!/bin/sh\nexit 0\n');
  chmodSync(ok, 0o755);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function supervisor(): Promise<Supervisor> {
  const sup = await Supervisor.open({ dataDir, serverId: 'srv-test', log: silentLogger });
  open.push(sup);
  return sup;
}

describe('the agent refuses the reconciled spec rules', () => {
  it.each([
    [
      'SIGKILL as the checkpoint signal',
      { checkpointSignal: 'SIGKILL' },
      /^workload job: checkpointSignal SIGKILL cannot be caught/,
    ],
    [
      'SIGSTOP as the checkpoint signal',
      { checkpointSignal: 'SIGSTOP' },
      /^workload job: checkpointSignal SIGSTOP cannot be caught/,
    ],
    [
      'a SWITCHYARD_* variable',
      { env: { SWITCHYARD_RESTORE: '1' } },
      /^workload job: env SWITCHYARD_RESTORE: the agent sets it/,
    ],
    [
      'a checkpoint timeout over an hour (once a day)',
      { checkpointTimeoutMs: 3_600_001 },
      /^workload job: checkpointTimeoutMs "3600001ms" is longer than an hour/,
    ],
  ] as [string, Partial<WorkloadSpec>, RegExp][])(
    'refuses %s, starting nothing and saving nothing',
    async (_, bad, message) => {
      const sup = await supervisor();
      const err = await sup.start(workloadSpec('job', ok, bad)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(YardError);
      expect((err as YardError).message).toMatch(message);
      expect(sup.list()).toEqual([]);
      expect(existsSync(join(dataDir, 'workloads', 'job'))).toBe(false);
    },
  );

  it('refuses a spec.json that breaks them when it opens again, saying why in its log', async () => {
    const dir = join(dataDir, 'workloads', 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'spec.json'),
      JSON.stringify(workloadSpec('bad', ok, { env: { SWITCHYARD_STATE_DIR: '/' } })),
    );
    writeFileSync(join(dir, 'status.json'), JSON.stringify({ state: 'running' }));
    const lines: string[] = [];
    const sup = await Supervisor.open({
      dataDir,
      serverId: 'srv-test',
      log: createLogger('agent', (l) => lines.push(l)),
    });
    open.push(sup);
    expect(sup.list()).toEqual([]);
    expect(lines.join('')).toContain(
      'workload bad was not loaded: workload bad: env SWITCHYARD_STATE_DIR: the agent sets it',
    );
  });
});
