// `yard run` watches a new workload for its first second: one that exits that soon failed to
// start (a typo, a missing file, a crash on load), and saying "state running" would be a lie.
import type { KnownWorkload } from '../core/domain.js';
import { printable } from '../core/printable.js';
import { WorkloadState, workloadStates, type Workload } from '../core/workload.js';

/** How long a new workload is watched after it started. */
const FIRST_SECOND_MS = 1000;
/** How often the controller is asked meanwhile. */
const POLL_MS = 100;
/** Lines of its output printed with the news. */
const LAST_LINES = 10;

/** It ran and ended (or ended and waits to be restarted): what an exit in the first second looks like. */
function ended(w: Workload): boolean {
  return (
    w.state === WorkloadState.WORKLOAD_STATE_EXITED ||
    w.state === WorkloadState.WORKLOAD_STATE_BACKOFF ||
    w.restarts > 0
  );
}

/**
 * Watches `started` until its first second is over (plus the time the agent's news takes to
 * reach the controller); resolves with its record if it ended meanwhile, else undefined.
 */
export async function exitedEarly(
  started: KnownWorkload,
  list: () => Promise<readonly KnownWorkload[]>,
  now = Date.now,
): Promise<KnownWorkload | undefined> {
  const name = started.spec.name;
  const until = now() + FIRST_SECOND_MS + 2 * POLL_MS;
  for (let i = 0; i < Math.ceil(until / POLL_MS) && now() < until; i++) {
    const w = (await list()).find((x) => x.spec.name === name && x.serverId === started.serverId);
    if (w && ended(w)) return w;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return undefined;
}

/** Terminal escapes and carriage returns out of pty output: the last lines as text. */
function lastLines(output: Buffer, count = LAST_LINES): string[] {
  const text = output
    .toString('utf8')
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\r\n?/g, '\n');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-count)
    .map(printable);
}

/** What `yard run` prints (to stderr) about a workload that ended in its first second. */
export function earlyExitText(w: KnownWorkload, server: string, output: Buffer): string {
  const name = w.spec.name;
  const how = w.exitSignal
    ? `was killed by ${w.exitSignal}`
    : w.exitCode !== undefined
      ? `exited with code ${w.exitCode}`
      : 'exited';
  const restarting =
    w.state === WorkloadState.WORKLOAD_STATE_BACKOFF
      ? `; its restart policy starts it again (${workloadStates.name(w.state)})`
      : '';
  const lines = lastLines(output);
  const tail =
    lines.length > 0 ? `its last output:\n${lines.map((l) => `  ${l}`).join('\n')}\n` : 'it printed nothing\n';
  return (
    `${printable(`${name} on ${server} ${how} within its first second${restarting}`)}\n${tail}` +
    printable(`\`yard logs ${name}\` shows all it printed; \`yard stop --rm ${name}\` forgets it`) +
    '\n'
  );
}
