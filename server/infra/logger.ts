import { pino, stdSerializers, type DestinationStream, type Logger } from "pino";

/**
 * Structured JSON logs (pino), one object a line, so any log shipper can index them. The lines keep
 * the fields our log queries use: `time` (ISO 8601), `level` as a word, `msg`, then the fields.
 */
export type TLogLevel = "debug" | "info" | "warn" | "error" | "silent";
type TFields = Record<string, unknown>;
export type TLogger = {
  debug(msg: string, fields?: TFields): void;
  info(msg: string, fields?: TFields): void;
  warn(msg: string, fields?: TFields): void;
  error(msg: string, fields?: TFields): void;
  child(fields: TFields): TLogger;
  /** The underlying pino logger, for integrations such as pino-http. */
  readonly pino: Logger;
};

/** Never logged in clear, wherever they appear one or two levels deep (request headers, bodies). */
export const REDACTED_PATHS = [
  "req.headers.cookie",
  "req.headers.authorization",
  'res.headers["set-cookie"]',
  "headers.cookie",
  "headers.authorization",
  "password",
  "passwordHash",
  "*.password",
  "*.passwordHash",
  "*.cookie",
  "*.authorization",
];

/** `err` keeps today's `{ name, message, stack }` and gains pino's extras (cause, own fields). */
function serializeError(value: unknown): unknown {
  return value instanceof Error ? { name: value.name, ...stdSerializers.err(value) } : value;
}

export function createLogger(level: TLogLevel = "info", base: TFields = {}, destination?: DestinationStream): TLogger {
  const root = pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(Object.keys(base).length ? root.child(base) : root);
}

function wrap(logger: Logger): TLogger {
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
    child: (fields) => wrap(logger.child(fields)),
    pino: logger,
  };
}
