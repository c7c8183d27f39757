/** The one way to make a logger: pino JSON to stdout, secrets redacted, the service in every line. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'config.redis.password',
  'authToken',
  '*.authToken',
  'headers.authorization',
];

export function createLogger(service: string, level: LevelWithSilent = 'info'): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
