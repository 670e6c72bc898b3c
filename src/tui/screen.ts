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

/**
 * Synchronized output (DEC private mode 2026): the terminal holds what arrives between these
 * and shows the frame whole, so a frame never tears. Terminals that do not know the mode
 * ignore it, as they ignore every unknown DECSET; the linux console and VT-class terminals
 * get plain frames.
 */
export const SYNC_BEGIN = '\x1b[?2026h';
export const SYNC_END = '\x1b[?2026l';

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
  if (headless || !/^(linux|vt\d|dumb|cons)/.test(process.env.TERM ?? '')) writeFramesSynchronized(screen);
  if (!headless && opts.cols !== undefined && opts.rows !== undefined) {
    screen.program.cols = opts.cols;
    screen.program.rows = opts.rows;
    screen.alloc();
  }
  return screen;
}

interface ProgramWrites {
  _write(text: string): unknown;
}

/**
 * blessed's draw builds the changed cells of a frame into one string and writes it once: that
 * one write goes out inside synchronized output.
 */
function writeFramesSynchronized(screen: blessed.Widgets.Screen): void {
  const program = screen.program as unknown as ProgramWrites;
  const draw = screen.draw.bind(screen);
  screen.draw = (start: number, end: number) => {
    const write = program._write;
    program._write = (text: string) => write.call(program, SYNC_BEGIN + text + SYNC_END);
    try {
      draw(start, end);
    } finally {
      program._write = write;
    }
  };
}

interface LabelledElement {
  _label?: { rtop: number };
  _labelResize?: () => void;
  childBase?: number;
  itop: number;
  screen: { autoPadding: boolean };
  on(event: string, listener: () => void): void;
  removeListener(event: string, listener: () => void): void;
}

/**
 * blessed answers every resize of a box with a title by rendering the whole screen on the next
 * tick, outside the scheduler: placing a page of cards drew the screen once per card (half a
 * second of the dashboard's launch). The title's row is kept as blessed keeps it; the frame
 * that moved the box draws it.
 */
function labelsWithoutOwnRender(): void {
  const proto = (
    blessed as unknown as {
      widget: { Element: { prototype: { setLabel(this: LabelledElement, options: unknown): void } } };
    }
  ).widget.Element.prototype;
  const setLabel = proto.setLabel;
  proto.setLabel = function (this: LabelledElement, options: unknown) {
    const before = this._labelResize;
    setLabel.call(this, options);
    const own = this._labelResize;
    if (!own || own === before) return;
    this.removeListener('resize', own);
    const relabel = () => {
      if (this._label) this._label.rtop = (this.childBase ?? 0) - (this.screen.autoPadding ? this.itop : 0);
    };
    // removeLabel() takes the listener off by this property.
    this._labelResize = relabel;
    this.on('resize', relabel);
  };
}
labelsWithoutOwnRender();

/** How many colours blessed will draw with (8, 16, 256). */
export function colourCount(screen: blessed.Widgets.Screen): number {
  return (screen.tput as unknown as { colors: number }).colors;
}

/** The screen as plain text from blessed's cell buffer, one line per row, trailing blanks trimmed. */
export function screenText(screen: blessed.Widgets.Screen): string {
  const lines = (screen as unknown as { lines: [number, string][][] }).lines;
  // A wide character's second cell holds "\x03": it is part of the first.
  return lines
    .map((row) =>
      row
        .map((cell) => (cell[1] === '\x03' ? '' : cell[1]))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}
