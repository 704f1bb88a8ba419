import pino, { type Logger } from 'pino';

/**
 * Structured logs (JSON lines). They carry ids (request, resource, inbox row), never names, NHS
 * numbers, addresses or clinical text: log what happened to which id, not what the record says.
 * The redaction list is a safety net for mistakes, not the policy.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'carebridge' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.resource', '*.content', '*.name', '*.identifier', '*.nhsNumber', '*.body', '*.query'],
      censor: '[withheld]',
    },
  });
}

export type { Logger };
