// The real `yard` (or a tmux client) in a real pseudo-terminal, read back the way an operator
// would see it: the one harness in bench/pty-screen.ts, which the benches use too.
import { PtyScreen, type PtyOptions } from '../../bench/pty-screen.js';
import { YARD } from './procs.js';

export { PtyScreen, type PtyOptions } from '../../bench/pty-screen.js';

/** `yard ARGS` (the built CLI) in a pty of its own, 100x30 unless told. */
export function ptyYard(args: string[], opts: PtyOptions = {}): PtyScreen {
  return new PtyScreen(process.execPath, [YARD, ...args], { label: 'yard', ...opts });
}

/** SGR parameter lists in `raw` that set a colour (30-38, 40-48, 90-107; not the resets 39 and 49). */
export function colourCodes(raw: string): string[] {
  const found: string[] = [];
  for (const [, params] of raw.matchAll(/\x1b\[([\d;]*)m/g)) {
    const ps = params!.split(';').map(Number);
    if (ps.some((p) => (p >= 30 && p <= 38) || (p >= 40 && p <= 48) || (p >= 90 && p <= 107))) found.push(params!);
  }
  return found;
}
