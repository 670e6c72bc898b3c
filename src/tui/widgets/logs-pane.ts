import type blessed from 'blessed';
import type { LogSink } from '../../core/fleet.js';
import { errorMessage } from '../../core/errors.js';
import { printable } from '../../core/printable.js';
import type { Look } from '../render/look.js';
import { escapeTags, paint } from '../render/paint.js';
import type { Part } from '../scheduler.js';
import { TextBox } from './text-box.js';

/** Lines kept for scrolling back: a workload that prints fast cannot grow the dashboard. */
export const LOG_LINES_KEPT = 2000;

/** Terminal escapes (colours, cursor moves, titles) a pty's output carries: the pane shows the text. */
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** One line of pty output as the pane prints it: escapes gone, a carriage return overwrites, tabs as spaces. */
function logLine(raw: string): string {
  const text = raw.replace(ESCAPES, '').replace(/\r+$/, '');
  return printable(text.slice(text.lastIndexOf('\r') + 1).replace(/\t/g, '  '));
}

/** What the pane follows: opens the stream into `sink`, returns the function that stops it. */
export type LogFollow = (sink: LogSink) => () => void;

/**
 * A workload's output over the view area, following it as it comes (`tail -f`). Scrolling up
 * stops following; G (or End) follows again. Closing it stops the stream.
 */
export class LogsPane implements Part {
  private readonly box: TextBox;
  private lines: string[] = [];
  private partial = '';
  /** Lines up from the end; 0 follows the output. */
  private offset = 0;
  private title = '';
  private ended: string | undefined;
  private stop: (() => void) | undefined;
  /** Which stream the sink belongs to: a late chunk from a pane closed before is dropped. */
  private generation = 0;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
    private readonly size: () => { width: number; height: number },
    private readonly changed: () => void,
  ) {
    this.box = new TextBox(parent, look, true);
  }

  get visible(): boolean {
    return this.stop !== undefined;
  }

  get following(): boolean {
    return this.offset === 0;
  }

  /** The text in the pane, for tests and the footer: every line kept. */
  get text(): string {
    return [...this.lines, ...(this.partial ? [logLine(this.partial)] : [])].join('\n');
  }

  open(title: string, follow: LogFollow): void {
    this.close();
    const generation = ++this.generation;
    Object.assign(this, { lines: [], partial: '', offset: 0, title, ended: undefined });
    const mine = () => generation === this.generation;
    this.stop = () => undefined;
    this.stop = follow({
      data: (chunk) => mine() && this.add(chunk.toString('utf8')),
      end: (error) => {
        if (!mine()) return;
        this.ended = error
          ? `the output stream failed: ${errorMessage(error)}`
          : 'the output ended (the workload exited, or its agent closed the stream)';
        this.changed();
      },
    });
    this.changed();
  }

  close(): void {
    this.generation++;
    const stop = this.stop;
    this.stop = undefined;
    stop?.();
    this.box.hide();
  }

  scroll(lines: number): void {
    this.offset = Math.max(0, Math.min(this.maxOffset(), this.offset - lines));
  }

  page(pages: number): void {
    this.scroll(pages * this.bodyRows());
  }

  follow(): void {
    this.offset = 0;
  }

  /** The oldest line kept at the top. */
  top(): void {
    this.offset = this.maxOffset();
  }

  update(): void {
    if (!this.visible) return;
    const { width, height } = this.size();
    const rows = this.bodyRows();
    const all = this.partial ? [...this.lines, logLine(this.partial)] : this.lines;
    const end = all.length - this.offset;
    const shown = all
      .slice(Math.max(0, end - rows), end)
      .map((l) => escapeTags([...l].slice(0, Math.max(0, width - 4)).join('')));
    const { muted } = this.look.theme;
    if (this.ended) shown.push(paint(muted, escapeTags(`— ${this.ended}`)));
    else if (all.length === 0) shown.push('(no output yet)');
    const where = this.ended ? 'ended' : this.following ? 'following' : `${this.offset} lines up, G follows`;
    this.box.show({ left: 0, top: 0, width, height }, `${this.title} · ${where}`, shown.slice(-rows));
  }

  /** As far up as there is text: the first line at the top. */
  private maxOffset(): number {
    return Math.max(0, this.lines.length + (this.partial ? 1 : 0) - this.bodyRows());
  }

  private bodyRows(): number {
    return Math.max(1, this.size().height - 2);
  }

  private add(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    for (const raw of parts) this.lines.push(logLine(raw));
    const over = this.lines.length - LOG_LINES_KEPT;
    if (over > 0) this.lines.splice(0, over);
    // Someone reading further up keeps their place while new lines come.
    if (this.offset > 0) this.offset = Math.min(this.maxOffset(), this.offset + parts.length);
    this.changed();
  }
}
