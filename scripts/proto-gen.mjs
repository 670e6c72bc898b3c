#!/usr/bin/env node
// The one script that turns proto/ into src/gen/. With --check it generates into a
// scratch directory and fails when the committed src/gen/ differs (drift).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
const buf = join(root, 'node_modules/.bin/buf');

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

function generate(outDir) {
  const template = readFileSync(join(root, 'buf.gen.yaml'), 'utf8').replace('out: src/gen', `out: ${outDir}`);
  const tmpl = join(tmpdir(), `buf.gen.${process.pid}.yaml`);
  writeFileSync(tmpl, template);
  try {
    execFileSync(buf, ['lint'], { cwd: root, stdio: 'inherit' });
    execFileSync(buf, ['generate', '--template', tmpl], { cwd: root, stdio: 'inherit' });
  } finally {
    rmSync(tmpl, { force: true });
  }
}

if (!check) {
  generate(join(root, 'src/gen'));
  console.log('src/gen regenerated from proto/');
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), 'yard-gen-'));
try {
  generate(scratch);
  const want = listFiles(scratch).map((f) => relative(scratch, f));
  const have = listFiles(join(root, 'src/gen')).map((f) => relative(join(root, 'src/gen'), f));
  const drift = [];
  for (const f of new Set([...want, ...have])) {
    if (!want.includes(f)) drift.push(`${f}: in src/gen but not generated from proto/`);
    else if (!have.includes(f)) drift.push(`${f}: generated from proto/ but missing in src/gen`);
    else if (readFileSync(join(scratch, f), 'utf8') !== readFileSync(join(root, 'src/gen', f), 'utf8')) drift.push(`${f}: differs`);
  }
  if (drift.length) {
    console.error('src/gen has drifted from proto/ — run `npm run proto:gen` and commit:\n  ' + drift.join('\n  '));
    process.exit(1);
  }
  console.log(`proto:check ok — src/gen matches proto/ (${want.length} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
