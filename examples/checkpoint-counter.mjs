#!/usr/bin/env node
// checkpoint-counter: a long-running job that follows Switchyard's checkpoint contract.
//
// It searches for primes, one number after another, and keeps every prime it has found in
// memory (it needs them: each new number is tested against the primes found so far). That
// list is its state. On the checkpoint signal it writes the state, with a sha256 of the
// results, into $SWITCHYARD_STATE_DIR and exits 0; started again with SWITCHYARD_RESTORE=1
// (on this host or another) it checks the state and carries on where it stopped.
//
// Environment:
//   SWITCHYARD_STATE_DIR           where the state lives (set by the agent; required)
//   SWITCHYARD_RESTORE=1           resume from the state there (set by the agent after a move)
//   SWITCHYARD_CHECKPOINT_SIGNAL   the signal that asks for a checkpoint (default SIGUSR1)
//   COUNTER_RATE                   numbers tested per tick, 10 ticks a second (default 1000)
//   COUNTER_STATE_MB               pad the checkpoint with this many MB of deterministic data,
//                                  verified on restore: a stand-in for model weights (default 0).
//                                  Like weights, the pad is written once (at the first start)
//                                  and stays in the state dir; a save writes only state.json,
//                                  so a pre-copied move carries little after the signal
//
// Exit codes: 0 checkpointed or stopped, 1 the checkpoint could not be written,
// 2 bad configuration or a checkpoint that fails its checks.
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';

const FORMAT = 'checkpoint-counter/1';
const TICK_MS = 100;
const PROGRESS_MS = 1000;
const MB = 1024 * 1024;

function fatal(message, code = 2) {
  process.stderr.write(`checkpoint-counter: ${message}\n`);
  process.exit(code);
}

function envNumber(name, fallback, { min, integer }) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const v = Number(text);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
    fatal(`${name}="${text}" is not ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return v;
}

function checkpointSignal() {
  const text = (process.env.SWITCHYARD_CHECKPOINT_SIGNAL || 'SIGUSR1').toUpperCase();
  const name = text.startsWith('SIG') ? text : `SIG${text}`;
  if (!(name in constants.signals) || name === 'SIGKILL' || name === 'SIGSTOP') {
    fatal(
      `SWITCHYARD_CHECKPOINT_SIGNAL="${process.env.SWITCHYARD_CHECKPOINT_SIGNAL}" is not a signal this process can catch`,
    );
  }
  return name;
}

const stateDir =
  process.env.SWITCHYARD_STATE_DIR ||
  fatal('SWITCHYARD_STATE_DIR is not set: run me under `yard run`, or set it to a directory of your own');
const stateFile = join(stateDir, 'state.json');
const padFile = join(stateDir, 'pad.bin');
const signal = checkpointSignal();
const rate = envNumber('COUNTER_RATE', 1000, { min: 1, integer: true });
const padMb = envNumber('COUNTER_STATE_MB', 0, { min: 0, integer: false });

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const resultsHash = (primes) => sha256(JSON.stringify(primes));
const short = (hex) => `${hex.slice(0, 12)}…`;

// ---- the work ------------------------------------------------------------------------------

/** Every prime below n, in order: the job's state, and what it needs to go on. */
let primes = [];
let n = 2;

function isPrime(k) {
  for (const p of primes) {
    if (p * p > k) return true;
    if (k % p === 0) return false;
  }
  return true;
}

function work() {
  for (let i = 0; i < rate; i++, n++) if (isPrime(n)) primes.push(n);
}

// ---- saving and loading --------------------------------------------------------------------

function fsyncDir(dir) {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes chunks to a temporary file, fsyncs it, then renames it into place: never half a file. */
function writeAtomic(file, chunks) {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    for (const chunk of chunks) writeSync(fd, chunk);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Deterministic bytes that do not compress (an AES-CTR keystream), hashed as they are made. */
function* padChunks(bytes, hash) {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(MB);
  for (let left = bytes; left > 0; left -= MB) {
    const chunk = cipher.update(left >= MB ? zeros : zeros.subarray(0, left));
    hash.update(chunk);
    yield chunk;
  }
}

function hashFile(file) {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(4 * MB);
  const fd = openSync(file, 'r');
  try {
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got <= 0) break;
      hash.update(buf.subarray(0, got));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** The pad in the state dir: kept as it is when it is the one this run wrote or checked. */
let padKept = null;

function ensurePad() {
  if (padMb <= 0) return null;
  const bytes = Math.round(padMb * MB);
  if (padKept?.bytes === bytes && existsSync(padFile) && statSync(padFile).size === bytes) return padKept;
  mkdirSync(stateDir, { recursive: true });
  const hash = createHash('sha256');
  writeAtomic(padFile, padChunks(bytes, hash));
  padKept = { file: 'pad.bin', bytes, sha256: hash.digest('hex') };
  fsyncDir(stateDir);
  return padKept;
}

function save() {
  mkdirSync(stateDir, { recursive: true });
  const pad = ensurePad();
  // state.json goes last: it is the commit point, and it names the pad it was saved with.
  const state = {
    format: FORMAT,
    savedAt: new Date().toISOString(),
    n,
    results: primes.length,
    sha256: resultsHash(primes),
    pad,
    primes,
  };
  writeAtomic(stateFile, [JSON.stringify(state)]);
  fsyncDir(stateDir);
  return state;
}

/** Reads and checks the checkpoint; a state that fails a check is never resumed from. */
function load() {
  if (!existsSync(stateFile)) fatal(`SWITCHYARD_RESTORE=1 but there is no checkpoint at ${stateFile}`);
  const corrupt = (why) => fatal(`checkpoint ${stateFile} fails its checks: ${why}; not resuming from it`);
  let state;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8'));
  } catch (err) {
    corrupt(`it is not JSON (${err.message})`);
  }
  if (state?.format !== FORMAT) corrupt(`its format is ${JSON.stringify(state?.format)}, not ${FORMAT}`);
  if (!Number.isSafeInteger(state.n) || state.n < 2 || !Array.isArray(state.primes))
    corrupt('it has no counter or no results');
  if (state.primes.length !== state.results)
    corrupt(`it records ${state.results} results but holds ${state.primes.length}`);
  const actual = resultsHash(state.primes);
  if (actual !== state.sha256)
    corrupt(`its results hash to sha256 ${short(actual)} but it records ${short(String(state.sha256))}`);
  if (state.pad) {
    const padPath = join(stateDir, state.pad.file);
    if (!existsSync(padPath)) corrupt(`${padPath} is missing`);
    if (statSync(padPath).size !== state.pad.bytes)
      corrupt(`${padPath} holds ${statSync(padPath).size} bytes, not ${state.pad.bytes}`);
    const padHash = hashFile(padPath);
    if (padHash !== state.pad.sha256)
      corrupt(`${padPath} hashes to sha256 ${short(padHash)} but it records ${short(state.pad.sha256)}`);
  }
  return state;
}

// ---- running -------------------------------------------------------------------------------

let checkpointing = false;
let ticker;
let reporter;

process.on(signal, () => {
  if (checkpointing) return;
  checkpointing = true;
  clearInterval(ticker);
  clearInterval(reporter);
  const started = Date.now();
  let state;
  try {
    state = save();
  } catch (err) {
    fatal(`checkpoint to ${stateDir} failed: ${err.message}`, 1);
  }
  const padNote = state.pad ? ` + ${(state.pad.bytes / MB).toFixed(1)} MB pad` : '';
  console.log(
    `checkpoint at n=${n} (results ${state.results}, sha256 ${short(state.sha256)}${padNote}) saved to ${stateFile} in ${Date.now() - started} ms`,
  );
  process.exit(0);
});

for (const stop of ['SIGTERM', 'SIGINT', 'SIGHUP'].filter((s) => s !== signal)) {
  process.on(stop, () => {
    if (checkpointing) return;
    console.log(`stopping at n=${n} (results ${primes.length}) without a checkpoint`);
    process.exit(0);
  });
}

// Announced only once the handlers are in place: whoever waits for this line may signal at once.
if (process.env.SWITCHYARD_RESTORE === '1') {
  const state = load();
  primes = state.primes;
  n = state.n;
  padKept = state.pad;
  console.log(`resumed at n=${n} (results ${primes.length}, sha256 ${short(state.sha256)}) from ${stateFile}`);
} else {
  ensurePad();
  console.log(
    `started at n=${n}: looking for primes, ${rate * (1000 / TICK_MS)} numbers a second; ${signal} saves to ${stateDir} and exits`,
  );
}
ticker = setInterval(work, TICK_MS);
reporter = setInterval(
  () => console.log(`progress n=${n} results=${primes.length} last=${primes.at(-1) ?? '-'}`),
  PROGRESS_MS,
);
