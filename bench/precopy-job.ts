// The pre-copy row's workload (bench/net.ts): a job whose state is large files that rarely
// change, as model weights or datasets are. At its first start it writes FILES files of FILE_MB
// random bytes into $SWITCHYARD_STATE_DIR and keeps their sha256 in a manifest; on the checkpoint
// signal it rewrites one of them (1/FILES of the state) with new random bytes, updates the
// manifest, writes how long that save took into last-save.json and exits 0; started again with
// SWITCHYARD_RESTORE=1 it checks every file against the manifest (exit 2 on any difference, so a
// bad move fails the controller's verify) and carries on.
//   PRECOPY_JOB_FILES (default 20), PRECOPY_JOB_FILE_MB (default 50)
// It prints "progress n=N" each second and "resumed at n=N: verified F files (B bytes) in T ms,
// last save S ms" after a restore, as the bench's example job does.
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1024 * 1024;
const dir = process.env.SWITCHYARD_STATE_DIR ?? fail('SWITCHYARD_STATE_DIR is not set: run me under yard');
const files = Number(process.env.PRECOPY_JOB_FILES ?? 20);
const fileMb = Number(process.env.PRECOPY_JOB_FILE_MB ?? 50);
if (!Number.isInteger(files) || files < 1 || !Number.isInteger(fileMb) || fileMb < 1)
  fail('PRECOPY_JOB_FILES and PRECOPY_JOB_FILE_MB must be positive integers');

interface Manifest {
  /** sha256 of each file, by name. */
  files: Record<string, string>;
  /** How many saves so far: the next save rewrites file number (saves % files). */
  saves: number;
  n: number;
}

const manifestFile = join(dir, 'manifest.json');
const name = (i: number) => `part-${String(i).padStart(3, '0')}.bin`;
const block = Buffer.allocUnsafe(MiB);

function fail(why: string, code = 2): never {
  process.stderr.write(`precopy-job: ${why}\n`);
  process.exit(code);
}

/** A file of fileMb MiB of fresh random bytes; returns its sha256. `sync`: on disk before it returns. */
function writeRandom(file: string, sync: boolean): string {
  const hash = createHash('sha256');
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    for (let i = 0; i < fileMb; i++) {
      randomFillSync(block);
      hash.update(block);
      for (let off = 0; off < block.length; ) off += writeSync(fd, block, off);
    }
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return hash.digest('hex');
}

function writeManifest(m: Manifest): void {
  writeFileSync(`${manifestFile}.tmp`, JSON.stringify(m), { mode: 0o600 });
  renameSync(`${manifestFile}.tmp`, manifestFile);
}

function sha256Of(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    for (let pos = 0; ; ) {
      const n = readSync(fd, block, 0, block.length, pos);
      if (n === 0) break;
      hash.update(block.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

let manifest: Manifest;
if (process.env.SWITCHYARD_RESTORE === '1') {
  const t0 = performance.now();
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch (err) {
    fail(`no readable manifest in ${dir}: ${(err as Error).message}`);
  }
  let bytes = 0;
  for (const [file, want] of Object.entries(manifest.files)) {
    const got = sha256Of(join(dir, file));
    if (got !== want) fail(`${file} has sha256 ${got}, the manifest says ${want}: the state is damaged`);
    bytes += fileMb * MiB;
  }
  let lastSave = 'unknown';
  try {
    lastSave = String(JSON.parse(readFileSync(join(dir, 'last-save.json'), 'utf8')).saveMs);
  } catch {
    // a state never saved by a checkpoint
  }
  process.stdout.write(
    `resumed at n=${manifest.n}: verified ${Object.keys(manifest.files).length} files (${bytes} bytes) in ${(performance.now() - t0).toFixed(0)} ms, last save ${lastSave} ms\n`,
  );
} else {
  const t0 = performance.now();
  manifest = { files: {}, saves: 0, n: 0 };
  for (let i = 0; i < files; i++) manifest.files[name(i)] = writeRandom(join(dir, name(i)), false);
  writeManifest(manifest);
  process.stdout.write(`wrote ${files} files of ${fileMb} MB in ${(performance.now() - t0).toFixed(0)} ms\n`);
}

const timer = setInterval(() => {
  manifest.n++;
  process.stdout.write(`progress n=${manifest.n}\n`);
}, 1000);

process.on('SIGUSR1', () => {
  clearInterval(timer);
  const t0 = performance.now();
  // The work since the last checkpoint: one file of the state (5 % of 20) is new.
  const changed = name(manifest.saves % files);
  manifest.files[changed] = writeRandom(join(dir, changed), true);
  manifest.saves++;
  writeManifest(manifest);
  const saveMs = performance.now() - t0;
  writeFileSync(join(dir, 'last-save.json'), JSON.stringify({ saveMs: Math.round(saveMs), changed }), { mode: 0o600 });
  process.stdout.write(`saved: rewrote ${changed} (${fileMb} MB) in ${saveMs.toFixed(0)} ms\n`);
  process.exit(0);
});
process.on('SIGTERM', () => process.exit(0));
