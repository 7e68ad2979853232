// The logging interface the broker layer receives by injection. The extension adapts it to a VS Code
// LogOutputChannel, the CLI to stderr; tests use the no-op logger unless they want to see what happened.

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const nopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** A logger writing `time level [component] message` lines to a stream (stderr by default). */
export function streamLogger(component: string, level: LogLevel = 'info', out: NodeJS.WritableStream = process.stderr): Logger {
  const min = LEVELS.indexOf(level);
  const line = (lvl: LogLevel) => (msg: string) => {
    if (LEVELS.indexOf(lvl) >= min) out.write(`${new Date().toISOString()} ${lvl.toUpperCase()} [${component}] ${msg}\n`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** Prefixes every message with a component tag, e.g. `[broker 1]`. */
export function tagged(logger: Logger, tag: string): Logger {
  return {
    debug: (m) => logger.debug(`[${tag}] ${m}`),
    info: (m) => logger.info(`[${tag}] ${m}`),
    warn: (m) => logger.warn(`[${tag}] ${m}`),
    error: (m) => logger.error(`[${tag}] ${m}`),
  };
}
