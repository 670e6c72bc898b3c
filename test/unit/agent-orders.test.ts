import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, type CommandContext } from '../../src/agent/commands.js';
import { Supervisor } from '../../src/agent/workloads/supervisor.js';
import { silentLogger } from '../../src/core/log.js';
import { WorkloadState } from '../../src/core/workload.js';
import { tempDir } from '../helpers/procs.js';
import { workloadSpec } from '../helpers/specs.js';

const dirs: string[] = [];
const open: Supervisor[] = [];

afterEach(async () => {
  for (const sup of open.splice(0)) await sup.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What runCommand needs to start and install workloads: a real supervisor in a temp data dir. */
async function context(): Promise<CommandContext> {
  const dataDir = tempDir('yard-orders-');
  dirs.push(dataDir);
  const supervisor = await Supervisor.open({ dataDir, serverId: 'srv-test', log: silentLogger });
  open.push(supervisor);
  return { supervisor, dataDir, log: silentLogger } as unknown as CommandContext;
}

describe('a command from the controller is checked where it arrives', () => {
  it('starts a workload whose start carries its spec', async () => {
    const ctx = await context();
    const spec = workloadSpec('sleeper', '/bin/sleep', { args: ['30'] });
    const res = await runCommand(
      { id: 'c1', action: { $case: 'start', value: { spec, restore: false, provisional: false } } },
      ctx,
    );
    expect(res.error).toBeUndefined();
    expect(res.workload).toMatchObject({ spec: { name: 'sleeper' }, state: WorkloadState.WORKLOAD_STATE_RUNNING });
  });

  it('refuses a start without its spec with INVALID_ARGUMENT back to the controller, and starts nothing', async () => {
    const ctx = await context();
    const res = await runCommand(
      { id: 'c2', action: { $case: 'start', value: { restore: false, provisional: false } } },
      ctx,
    );
    expect(res).toMatchObject({ id: 'c2', error: { code: 'INVALID_ARGUMENT' } });
    expect(res.error!.message).toBe(
      "command start (c2) came without the workload's spec, so this agent cannot start it; the controller sends it with every start: check that controller and agent run the same version",
    );
    expect(ctx.supervisor.list()).toEqual([]);
  });

  it('refuses a checkpoint fetch without its spec before it downloads anything', async () => {
    const ctx = await context();
    const value = { checkpointId: 'cp-12345678', sha256: '', size: 10, maxBytes: 100 };
    const res = await runCommand({ id: 'c3', action: { $case: 'fetch', value } }, ctx);
    expect(res.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(res.error!.message).toMatch(
      /^command fetch \(c3\) came without the workload's spec, so this agent cannot install its checkpoint;/,
    );
  });
});
