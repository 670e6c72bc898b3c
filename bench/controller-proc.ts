// A controller in its own process for the tls step, mTLS or the plaintext baseline:
// `node dist/bench/controller-proc.js DATA_DIR HOST:PORT HEARTBEAT_MS GRACE_MS tls|plaintext`.
// `plaintext` sets ControllerOptions.benchmarkPlaintext, which no CLI flag reaches: the bench
// starts both sides through this one script, so they differ in nothing else. It logs as
// `yard controller` does (on stderr, "controller listening" once it listens) and stops on SIGTERM.
import { startController } from '../src/controller/controller.js';
import { createLogger } from '../src/core/log.js';

/** How the tls step starts it (the arguments, in order). */
export type ControllerProcArgs = [dataDir: string, listen: string, heartbeatMs: string, graceMs: string, mode: Mode];
type Mode = 'tls' | 'plaintext';

const [dataDir, listen, heartbeatArg, graceArg, mode] = process.argv.slice(2);
const heartbeatMs = Number(heartbeatArg);
const graceMs = Number(graceArg);
if (!dataDir || !listen || !(heartbeatMs > 0) || !(graceMs > 0) || (mode !== 'tls' && mode !== 'plaintext')) {
  process.stderr.write(
    'usage: node dist/bench/controller-proc.js DATA_DIR HOST:PORT HEARTBEAT_MS GRACE_MS tls|plaintext\n',
  );
  process.exit(2);
}

const log = createLogger('controller', (line) => process.stderr.write(line));
const controller = await startController({
  dataDir,
  listen,
  heartbeatIntervalMs: heartbeatMs,
  graceMs,
  benchmarkPlaintext: mode === 'plaintext',
  log,
});
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  controller.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`controller-proc: error while stopping: ${String(err)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
