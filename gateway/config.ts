import { resolve } from 'node:path';
import { DEFAULT_DECISION_CACHE } from './access/decision-cache';

/** Everything CareBridge reads from its environment, checked once at start. */
export interface Config {
  port: number;
  mllpPort: number;
  dataDir: string;
  databaseUrl?: string;
  redisUrl?: string;
  logLevel: string;
  /** Public base URL for links in bundles and QR codes; derived from the request when unset. */
  publicBaseUrl?: string;
  /** Load the synthetic demo population into an empty store. */
  demoData: boolean;
  production: boolean;
  /** Remembered access decisions (gateway/access/decision-cache.ts): how many, and for how long at most; 0 entries turns it off. */
  accessDecisionCache: { maxEntries: number; ttlMs: number };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new ConfigError(`${name} must be a port number (0-65535), not '${text}'`);
  return value;
}

function count(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(`${name} must be a whole number of 0 or more, not '${text}'`);
  return value;
}

/** The longest a remembered access decision may be used: the backstop for whatever its checks cannot see, so kept short. */
const MAX_DECISION_SECONDS = 300;

function decisionLifetimeSeconds(env: NodeJS.ProcessEnv): number {
  const seconds = count(env, 'ACCESS_DECISION_CACHE_SECONDS', DEFAULT_DECISION_CACHE.ttlMs / 1000);
  if (seconds > MAX_DECISION_SECONDS) throw new ConfigError(`ACCESS_DECISION_CACHE_SECONDS must be at most ${String(MAX_DECISION_SECONDS)}, not '${String(seconds)}'`);
  return seconds;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env['LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const production = env['NODE_ENV'] === 'production';
  const demo = env['DEMO_DATA'];
  if (demo !== undefined && demo !== 'true' && demo !== 'false') throw new ConfigError(`DEMO_DATA must be true or false`);
  // Read by the PostgreSQL engine itself (every process opens one); checked here so that a typo stops the start.
  const prepared = env['DATABASE_PREPARED_STATEMENTS'];
  if (prepared !== undefined && prepared !== 'true' && prepared !== 'false') throw new ConfigError(`DATABASE_PREPARED_STATEMENTS must be true or false`);
  const publicBaseUrl = env['PUBLIC_BASE_URL']?.replace(/\/+$/, '');
  if (publicBaseUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicBaseUrl)) throw new ConfigError(`PUBLIC_BASE_URL must be an http(s) URL`);
  return {
    port: port(env, 'PORT', 8080),
    mllpPort: port(env, 'MLLP_PORT', 2575),
    dataDir: resolve(env['DATA_DIR'] ?? './data'),
    databaseUrl: env['DATABASE_URL'] || undefined,
    redisUrl: env['REDIS_URL'] || undefined,
    logLevel,
    publicBaseUrl,
    demoData: demo === undefined ? !production : demo === 'true',
    production,
    accessDecisionCache: {
      maxEntries: count(env, 'ACCESS_DECISION_CACHE_SIZE', DEFAULT_DECISION_CACHE.maxEntries),
      ttlMs: decisionLifetimeSeconds(env) * 1000,
    },
  };
}
