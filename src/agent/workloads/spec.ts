// What a workload spec needs of this host, once src/core/schema/workload-spec.ts has checked it
// and filled in its defaults: a working directory and a command it can run.
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { YardError } from '../../core/errors.js';
import type { WorkloadSpec } from '../../core/workload.js';

function invalid(spec: WorkloadSpec, field: string, problem: string): YardError {
  return new YardError('INVALID_ARGUMENT', `workload ${spec.name}: ${field} ${problem}`, {
    field,
    workload: spec.name,
  });
}

/** Checks what this host must have: the working directory and the command (run from `cwd`). */
export async function checkSpecOnHost(spec: WorkloadSpec, cwd: string): Promise<void> {
  if (spec.cwd !== '') {
    const st = await stat(spec.cwd).catch(() => undefined);
    if (!st?.isDirectory()) throw invalid(spec, 'cwd', `${spec.cwd} is not a directory on this host`);
  }
  if ((await findCommand(spec, cwd)) === undefined) {
    throw invalid(
      spec,
      'command',
      `"${spec.command}" was not found or is not executable on this host (looked in ${spec.command.includes('/') ? 'its path' : 'PATH'})`,
    );
  }
}

/** Where the command resolves, as execvp would find it; undefined when it would fail. */
async function findCommand(spec: WorkloadSpec, cwd: string): Promise<string | undefined> {
  const executable = (p: string) =>
    access(p, fsConstants.X_OK).then(
      () => stat(p).then((st) => (st.isFile() ? p : undefined)),
      () => undefined,
    );
  if (spec.command.includes('/')) return executable(resolve(cwd, spec.command));
  const path = spec.env.PATH ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const found = await executable(join(dir, spec.command));
    if (found) return found;
  }
  return undefined;
}
