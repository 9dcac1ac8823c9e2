/**
 * pino logger: JSON lines on stderr (stdout is kept for command output such as `--json`), pretty on a
 * TTY when `log.format` is `auto`. Every line passes through `redactText` before it is written.
 */
import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';
import type { LogConfig } from '../config/schema.js';
import { redactText } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Where lines go; default stderr. Tests pass a collecting stream. */
  destination?: DestinationStream;
  isTty?: boolean;
}

function redactingStream(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(redactText(line)) };
}

export function createLogger(config: LogConfig, options: LoggerOptions = {}): Logger {
  const isTty = options.isTty ?? Boolean(process.stderr.isTTY);
  const usePretty = config.format === 'pretty' || (config.format === 'auto' && isTty && !options.destination);
  const base: DestinationStream =
    options.destination ??
    (usePretty ? pretty({ destination: 2, sync: true, colorize: isTty }) : pino.destination({ dest: 2, sync: true }));
  return pino(
    {
      level: config.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    redactingStream(base),
  );
}

/** Every line about a relay carries its URL. */
export function relayLogger(logger: Logger, relayUrl: string): Logger {
  return logger.child({ relay: relayUrl });
}

/** A logger that writes nothing, for library use without a configured logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
