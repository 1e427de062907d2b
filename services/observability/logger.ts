// pino JSON logs for the services: one root logger per process, a child logger per component
// (`{component: 'detector'}`), and a fixed message per event (`batch written`, `record
// rejected`, `registry applied`, `registry refused`); everything else goes in fields.
import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** The component names in use, so a reader can grep them. */
export type Component =
  | 'detector'
  | 'detector.alerts'
  | 'registry-state'
  | 'source.kafka'
  | 'sink.kafka'
  | 'sink.clickhouse'
  | 'ship'
  | 'ship.follow'
  | 'registry-publish'
  | 'observability'
  | 'serve'
  | 'notify'
  | 'notify.route'
  | 'watch';

export interface LoggerOptions {
  /** pino level; default `info`, or LEAKSCOPE_LOG_LEVEL. `silent` turns logging off. */
  level?: string;
  /** Where JSON lines go; default stderr (stdout is kept for command output). */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields on every line, e.g. `{instance: 'det-1'}`. */
  base?: Record<string, unknown>;
}

/** The process's root logger: JSON lines with an ISO time and the service name. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LEAKSCOPE_LOG_LEVEL ?? 'info';
  const destination = (options.destination ?? pino.destination({ fd: 2, sync: false })) as DestinationStream;
  return pino(
    {
      level,
      base: { service: 'leakscope', ...(options.base ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A child logger for one component. */
export function componentLogger(root: Logger, component: Component, fields: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...fields });
}

/** A logger that writes nothing, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
