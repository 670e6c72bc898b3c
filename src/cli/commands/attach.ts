import type { Argv } from 'yargs';
import { YardError } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import type { ControllerTarget } from '../client.js';
import { withTarget } from '../options.js';
import { checkWorkloadName, isCancelled, streamError } from './workloads.js';

/** Ctrl-]: telnet's and docker's habit; a workload rarely needs it. */
const DETACH_KEY = 0x1d;

const EPILOG = `Keys: Ctrl-] detaches (the workload keeps running). Everything else, Ctrl-C included, goes
to the workload. Needs a terminal on stdin and stdout; \`yard logs -f\` reads output without one.`;

type Control = ReturnType<typeof import('../client.js').controlClient>;
type Duplex = ReturnType<Control['client']['attach']>;
type Ending = { kind: 'detached' } | { kind: 'closed'; reason: string } | { kind: 'error'; err: YardError };

export const attachCommand = {
  command: 'attach <workload>',
  describe: "open a workload's console; Ctrl-] detaches and leaves it running",
  builder: (y: Argv) =>
    withTarget(y)
      .positional('workload', { type: 'string', demandOption: true, describe: 'workload name' })
      .epilog(EPILOG),
  async handler(argv: { controller?: string; token?: string; dataDir: string; workload: string }) {
    const name = checkWorkloadName(argv.workload, 'attach');
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      throw new YardError(
        'NOT_A_TERMINAL',
        `attaching to ${name} needs a terminal on stdin and stdout; to read its output without one, run \`yard logs -f ${name}\``,
      );
    }
    const client = await import('../client.js');
    const target = await client.findController(argv);
    const c = client.controlClient(target);
    try {
      await c.reach();
      const ending = await session(c.client.attach(c.metadata), name, c.target);
      if (ending.kind === 'error') throw ending.err;
      process.stderr.write(
        ending.kind === 'detached'
          ? `detached from ${name}; it keeps running\n`
          : `console of ${name} closed: ${printable(ending.reason || 'the workload ended')}\n`,
      );
    } finally {
      c.close();
    }
  },
};

/** Raw mode on, and a way back that runs once on every exit path (signals and crashes included). */
function rawTerminal(): () => void {
  const stdin = process.stdin;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdin.setRawMode(false);
    stdin.pause();
    // A workload may have hidden the cursor or left colours on; hand the terminal back sane.
    process.stdout.write('\x1b[0m\x1b[?25h');
    process.off('exit', restore);
  };
  process.on('exit', restore);
  stdin.setRawMode(true);
  stdin.resume();
  return restore;
}

function session(call: Duplex, name: string, target: ControllerTarget): Promise<Ending> {
  const out = process.stdout;
  const size = () => ({ cols: out.columns || 80, rows: out.rows || 24 });
  process.stderr.write(`attaching to ${name}; Ctrl-] detaches (the workload keeps running)\n`);
  call.write({ msg: { $case: 'open', value: { name, size: size() } } });
  const restore = rawTerminal();

  return new Promise<Ending>((resolve) => {
    let ended = false;
    const end = (ending: Ending) => {
      if (ended) return;
      ended = true;
      process.stdin.off('data', onInput);
      out.off('resize', onResize);
      for (const s of ['SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
      restore();
      out.write('\n');
      call.end();
      call.cancel();
      resolve(ending);
    };
    const onInput = (buf: Buffer) => {
      const at = buf.indexOf(DETACH_KEY);
      const input = at < 0 ? buf : buf.subarray(0, at);
      if (input.length) call.write({ msg: { $case: 'input', value: input } });
      if (at >= 0) end({ kind: 'detached' });
    };
    const onResize = () => call.write({ msg: { $case: 'resize', value: size() } });
    // Closing the terminal (SIGHUP) or being told to stop detaches: the workload is not ours to end.
    const onSignal = () => end({ kind: 'detached' });

    process.stdin.on('data', onInput);
    out.on('resize', onResize);
    for (const s of ['SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
    call.on('data', (r: { data: Buffer; closed: boolean; reason: string }) => {
      if (r.data.length) out.write(r.data);
      if (r.closed) end({ kind: 'closed', reason: r.reason });
    });
    call.on('end', () => end({ kind: 'closed', reason: 'the controller ended the session' }));
    call.on('error', (err: { code?: number; details?: string; message: string }) =>
      end(isCancelled(err) ? { kind: 'detached' } : { kind: 'error', err: streamError(err, target) }),
    );
  });
}
