import type blessed from 'blessed';
import type { Look } from '../render/look.js';
import { escapeTags } from '../render/paint.js';
import { wrapText } from '../render/wrap.js';
import type { Part } from '../scheduler.js';
import { TextBox } from './text-box.js';

const MAX_WIDTH = 64;

/** A yes/no question in a small box over everything in the view area ("Cancel migration …?"). */
export class Question implements Part {
  private readonly box: TextBox;
  private text: string | undefined;
  private onYes: (() => void) | undefined;

  constructor(
    parent: blessed.Widgets.Node,
    look: Look,
    private readonly size: () => { width: number; height: number },
  ) {
    this.box = new TextBox(parent, look, true);
  }

  get open(): boolean {
    return this.text !== undefined;
  }

  /** The question open now. */
  get asking(): string | undefined {
    return this.text;
  }

  ask(text: string, onYes: () => void): void {
    this.text = text;
    this.onYes = onYes;
  }

  answer(yes: boolean): void {
    const onYes = this.onYes;
    this.text = undefined;
    this.onYes = undefined;
    if (yes) onYes?.();
  }

  update(): void {
    if (this.text === undefined) {
      this.box.hide();
      return;
    }
    const { width, height } = this.size();
    const w = Math.min(width - 4, MAX_WIDTH);
    const lines = [...wrapText(this.text, w - 4).map(escapeTags), '', '{bold}y{/bold} yes, {bold}n{/bold} no'];
    const h = Math.min(height, lines.length + 2);
    this.box.show(
      { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h },
      'Are you sure?',
      lines,
    );
  }
}
