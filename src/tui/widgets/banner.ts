import blessed from 'blessed';
import { agoText } from '../../core/format/time.js';
import type { Look } from '../render/look.js';
import { applyColours, escapeTags } from '../render/paint.js';
import { clock } from './header.js';

/** "controller unreachable since 14:03:22 (2m ago) — reconnecting…", centred in the line. */
function bannerText(since: number, now: number, look: Look): string {
  const { glyphs } = look;
  const dots = glyphs.unicode ? '…' : '...';
  return `controller unreachable since ${clock(since)} (${agoText(now - since)}) ${glyphs.dash} reconnecting${dots}`;
}

/**
 * A full-width line under the header while an attached dashboard has lost its controller:
 * what is on screen is the fleet as it was, and this says since when.
 */
export class Banner {
  private readonly box: blessed.Widgets.BoxElement;

  constructor(
    parent: blessed.Widgets.Node,
    private readonly look: Look,
  ) {
    this.box = blessed.box({
      parent,
      hidden: true,
      top: 1,
      left: 0,
      right: 0,
      height: 1,
      tags: true,
      wrap: false,
      align: 'center',
    });
  }

  get visible(): boolean {
    return !this.box.hidden;
  }

  show(since: number, now: number): void {
    const { banner } = this.look.theme;
    applyColours(this.box, banner.fg, banner.bg, banner.inverse);
    (this.box.style as { bold?: boolean }).bold = true;
    this.box.setContent(escapeTags(bannerText(since, now, this.look)));
    if (this.box.hidden) this.box.show();
  }

  hide(): void {
    if (!this.box.hidden) this.box.hide();
  }
}
