import { resolve } from 'node:path';

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

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logLevel = env['LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const production = env['NODE_ENV'] === 'production';
  const demo = env['DEMO_DATA'];
  if (demo !== undefined && demo !== 'true' && demo !== 'false') throw new ConfigError(`DEMO_DATA must be true or false`);
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
  };
}
