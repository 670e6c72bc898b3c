import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every temporary file of a run (the tests', and those of the agents and controllers they start)
 * goes under one directory made here, and is removed with it when the run ends: a suite that moves
 * gigabytes of checkpoints must not leave them behind on the machine that runs it.
 */
export default function setup(): () => void {
  const base = process.env.TMPDIR ?? '/tmp';
  const runDir = mkdtempSync(join(base, 'yard-test-run-'));
  process.env.YARD_TEST_SHARED_TMP = base;
  process.env.TMPDIR = runDir;
  return () => {
    rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
  };
}
