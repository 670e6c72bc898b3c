/** A structured log line: level, message, fields. Where it goes is the caller's choice. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function formatLogLine(level: LogLevel, component: string, msg: string, fields: LogFields = {}): string {
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /\s|"/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${component}: ${msg}${kv ? ' ' + kv : ''}\n`;
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
