import blessed from 'blessed';
import { chooseTerminal } from './terminal.js';

export interface ScreenOptions {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  cols?: number;
  rows?: number;
  title?: string;
  ascii: boolean;
}

function isTty(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/**
 * The blessed screen, on a real terminal or headless: an output that is not a TTY (a
 * PassThrough in tests) is driven as xterm-256color at the size asked for.
 */
export function createScreen(opts: ScreenOptions): blessed.Widgets.Screen {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const headless = !isTty(output);
  if (headless) {
    // blessed takes its size from the output stream; a PassThrough has none of its own.
    Object.assign(output, { columns: opts.cols ?? 80, rows: opts.rows ?? 24 });
  }
  const screen = blessed.screen({
    input: input as blessed.Widgets.IScreenOptions['input'],
    output: output as blessed.Widgets.IScreenOptions['output'],
    terminal: headless ? 'xterm-256color' : chooseTerminal(process.env.TERM),
    fullUnicode: !opts.ascii,
    forceUnicode: !opts.ascii,
    smartCSR: true,
    warnings: false,
    title: opts.title ?? 'Switchyard',
  });
  // With UTF-8, draw box lines as UTF-8: blessed's ACS switching turns "°" into "f" under
  // tmux. Without it, ACS is what draws lines on a non-UTF-8 terminal.
  if (!opts.ascii) (screen.tput as unknown as { brokenACS: boolean }).brokenACS = true;
  if (!headless && opts.cols !== undefined && opts.rows !== undefined) {
    screen.program.cols = opts.cols;
    screen.program.rows = opts.rows;
    screen.alloc();
  }
  return screen;
}

/** How many colours blessed will draw with (8, 16, 256). */
export function colourCount(screen: blessed.Widgets.Screen): number {
  return (screen.tput as unknown as { colors: number }).colors;
}

/** The screen as plain text from blessed's cell buffer, one line per row, trailing blanks trimmed. */
export function screenText(screen: blessed.Widgets.Screen): string {
  const lines = (screen as unknown as { lines: [number, string][][] }).lines;
  // A wide character's second cell holds "\x03": it is part of the first.
  return lines.map((row) => row.map((cell) => (cell[1] === '\x03' ? '' : cell[1])).join('').trimEnd()).join('\n');
}
