// The fault-injection suite's workload (bench/chaos.ts): a counter that follows the checkpoint
// contract of the README and keeps a ledger outside every host's data dir, so a run can prove
// what it went on from. Each start (fresh, or restored at counter n), each save (at n) and each
// refusal of a state that fails its checksum is one line appended to $CHAOS_LEDGER.
//   SWITCHYARD_STATE_DIR, SWITCHYARD_RESTORE, SWITCHYARD_CHECKPOINT_SIGNAL   set by the agent
//   CHAOS_LEDGER     the ledger file (required)
//   CHAOS_SAVE_MS    how long a save takes before it writes (a stand-in for a big state; default 150)
//   CHAOS_STATE_KB   padding written with each save and checked on restore (default 512)
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const stateDir = env.SWITCHYARD_STATE_DIR;
const ledger = env.CHAOS_LEDGER;
if (!stateDir || !ledger) {
  process.stderr.write('chaos-counter: SWITCHYARD_STATE_DIR and CHAOS_LEDGER must be set\n');
  process.exit(2);
}
const saveMs = Number(env.CHAOS_SAVE_MS ?? 150);
const padBytes = Number(env.CHAOS_STATE_KB ?? 512) * 1024;
const stateFile = join(stateDir, 'state.json');
const padFile = join(stateDir, 'pad.bin');

const note = (line: string) => appendFileSync(ledger, `${line} pid=${process.pid} dir=${stateDir}\n`);
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
/** The padding of a save at counter n: deterministic, so a restore can tell it is whole. */
const pad = (n: number) => Buffer.alloc(padBytes, n % 251);

function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, Buffer.from(data));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

let n = 0;
if (env.SWITCHYARD_RESTORE === '1') {
  const refuse = (why: string): never => {
    note(`corrupt ${why}`);
    process.exit(2);
  };
  if (!existsSync(stateFile)) refuse('no state.json');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { n: number; padSha256: string; sha256: string };
  if (sha256(`${state.n}:${state.padSha256}`) !== state.sha256) refuse(`state.json fails its checksum`);
  if (!existsSync(padFile) || sha256(readFileSync(padFile)) !== state.padSha256)
    refuse(`pad.bin does not match state.json`);
  n = state.n;
  note(`restored n=${n}`);
} else {
  note('fresh n=0');
}

let saving = false;
const ticker = setInterval(() => n++, 10);
process.on((env.SWITCHYARD_CHECKPOINT_SIGNAL || 'SIGUSR1') as NodeJS.Signals, () => {
  if (saving) return;
  saving = true;
  clearInterval(ticker);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, saveMs);
  const body = pad(n);
  writeAtomic(padFile, body);
  const padSha256 = sha256(body);
  // state.json last: it is the commit point, and it names the padding it was saved with.
  writeAtomic(stateFile, JSON.stringify({ n, padSha256, sha256: sha256(`${n}:${padSha256}`) }));
  note(`saved n=${n}`);
  process.exit(0);
});
for (const stop of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
  process.on(stop, () => {
    if (saving) return;
    note(`stopped n=${n} by ${stop}`);
    process.exit(0);
  });
}
