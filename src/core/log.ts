import { errorMessage } from './errors.js';
import { CONTROL_CHARS, printable } from './printable.js';

/** A structured log line: level, message, fields. Where it goes is the caller's choice. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Field values: text and numbers as they are; an error, a gRPC status or any object as what it says. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function formatLogLine(level: LogLevel, component: string, msg: string, fields: LogFields = {}): string {
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(' ');
  // Messages and values quote what agents and operators sent: a terminal tailing the log must not obey it.
  return `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${component}: ${printable(msg)}${kv ? ' ' + kv : ''}\n`;
}

/** One field's value: bare when it is one plain word, else quoted with escapes. */
function formatValue(v: unknown): string {
  const text =
    typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'boolean' || v === null
        ? String(v)
        : errorMessage(v);
  return text === '' || /\s|"/.test(text) || CONTROL_CHARS.test(text) ? printable(JSON.stringify(text)) : text;
}

/** A logger that writes lines to `write` (stderr, a file stream) for levels at or above `min`. */
export function createLogger(component: string, write: (line: string) => void, min: LogLevel = 'info'): Logger {
  const order: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  const floor = order.indexOf(min);
  const at = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (order.indexOf(level) >= floor) write(formatLogLine(level, component, msg, fields));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * While a full-screen UI owns the terminal, what this process would print on stderr (Node's
 * warnings, a library's console.error) would land over the screen and stay: it goes to `log`
 * instead, a warning per line. Returns the undo. A crash still reaches the terminal: Node
 * prints uncaught errors on the file descriptor, not through process.stderr.
 */
export function divertStderr(log: Logger): () => void {
  const original = process.stderr.write;
  let partial = '';
  const write = (
    chunk: string | Uint8Array,
    encoding?: BufferEncoding | ((err?: Error | null) => void),
    cb?: (err?: Error | null) => void,
  ): boolean => {
    const lines = (partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))).split('\n');
    partial = lines.pop()!.slice(-4096);
    for (const line of lines) if (line.trim() !== '') log.warn(line);
    const done = typeof encoding === 'function' ? encoding : cb;
    if (done) process.nextTick(done);
    return true;
  };
  process.stderr.write = write as typeof process.stderr.write;
  return () => {
    if (partial.trim() !== '') log.warn(partial);
    partial = '';
    if (process.stderr.write === (write as typeof process.stderr.write)) process.stderr.write = original;
  };
}
