/**
 * Characters a terminal obeys instead of showing: C0 (ESC, BEL, CR, tab, newline…), DEL, C1
 * (CSI, OSC as one byte), the line and paragraph separators, and the bidi controls that reorder
 * what an operator reads ("Trojan source"). One rule for every edge and every printer.
 */
export const CONTROL_CHARS = /[\p{Cc}\u061C\u200E\u200F\u2028-\u202E\u2066-\u2069]/u;
const CONTROL_CHARS_ALL = new RegExp(CONTROL_CHARS.source, 'gu');

/** The first control character in `text` as "U+001B at 5", or undefined when there is none. */
export function findControl(text: string): string | undefined {
  const m = CONTROL_CHARS.exec(text);
  if (!m) return undefined;
  return `${codePoint(m[0])} at ${[...text.slice(0, m.index)].length + 1}`;
}

/**
 * `text` with every control character shown as an escape (`\x1b`, `\u202e`) instead of obeyed:
 * for anything printed that came from the wire or a file. Printable text is unchanged.
 */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARS_ALL, (c) => {
    const n = c.codePointAt(0)!;
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `printable` for text of several lines the caller built: line breaks stay, every other control is escaped. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/**
 * JSON.stringify that also escapes DEL, C1 and the bidi controls (it escapes only C0 itself):
 * the same value for a parser, nothing a terminal acts on when it is printed.
 */
export function printableJson(value: unknown, indent?: number): string {
  // Raw newlines in the output are the indentation's own (JSON.stringify escapes those in strings).
  return JSON.stringify(value, null, indent).replace(CONTROL_CHARS_ALL, (c) =>
    c === '\n' ? c : `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}
