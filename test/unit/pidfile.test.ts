import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPidFile, runningAgentPid } from '../../src/agent/pidfile.js';
import { tempDir } from '../helpers/procs.js';

describe('the agent pid file', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });
  const sleeper = (...argv: string[]) => {
    const c = spawn('sh', ['-c', 'sleep 30', ...argv], { stdio: 'ignore' });
    children.push(c);
    return c.pid!;
  };

  it('names a live agent, and not a process that took the pid of one that was killed', async () => {
    const file = join(tempDir(), 'agent.pid');
    writeFileSync(file, `${sleeper('agent')}\n`);
    expect(await runningAgentPid(file)).toBeGreaterThan(0);
    const stranger = sleeper('something-else');
    writeFileSync(file, `${stranger}\n`);
    expect(await runningAgentPid(file)).toBeUndefined();
    // So a new agent may take the data dir over.
    const release = await claimPidFile(file);
    await release();
  });
});
