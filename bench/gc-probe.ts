// Preloaded into a controller by the etcd bench (`node --import …/gc-probe.js`): on SIGUSR2, two
// full garbage collections, then process.memoryUsage() to $YARD_BENCH_GC_PROBE_DIR/mem-<pid>.json.
// RSS sampled while a fleet beats includes garbage V8 has not yet needed to collect; this is
// what the process holds once it has.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const dir = process.env.YARD_BENCH_GC_PROBE_DIR;
if (dir) {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  process.on('SIGUSR2', () => {
    gc();
    gc();
    writeFileSync(join(dir, `mem-${process.pid}.json`), JSON.stringify(process.memoryUsage()));
  });
}
