import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config';

describe('configuration from the environment', () => {
  test('defaults: ports 8080 and 2575, ./data, embedded store, demo data on outside production', () => {
    expect(loadConfig({})).toEqual({
      port: 8080, mllpPort: 2575, dataDir: resolve('./data'), databaseUrl: undefined, redisUrl: undefined,
      logLevel: 'info', publicBaseUrl: undefined, demoData: true, production: false,
      accessDecisionCache: { maxEntries: 20_000, ttlMs: 60_000 },
    });
  });
  test('remembered access decisions: how many and for how long, or none', () => {
    expect(loadConfig({ ACCESS_DECISION_CACHE_SIZE: '500', ACCESS_DECISION_CACHE_SECONDS: '5' }).accessDecisionCache).toEqual({ maxEntries: 500, ttlMs: 5_000 });
    expect(loadConfig({ ACCESS_DECISION_CACHE_SIZE: '0' }).accessDecisionCache.maxEntries).toBe(0);
  });
  test('production turns demo data off unless asked for', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).demoData).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', DEMO_DATA: 'true' }).demoData).toBe(true);
  });
  test('values are read and a trailing slash on the public URL is dropped', () => {
    const config = loadConfig({ PORT: '9000', DATABASE_URL: 'postgres://x@h/db', PUBLIC_BASE_URL: 'https://cb.example.nhs.uk/', LOG_LEVEL: 'debug' });
    expect([config.port, config.databaseUrl, config.publicBaseUrl, config.logLevel]).toEqual([9000, 'postgres://x@h/db', 'https://cb.example.nhs.uk', 'debug']);
  });
  test.each([
    [{ PORT: 'eighty' }, 'PORT must be a port number'],
    [{ MLLP_PORT: '70000' }, 'MLLP_PORT must be a port number'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [{ DEMO_DATA: 'yes' }, 'DEMO_DATA must be true or false'],
    [{ PUBLIC_BASE_URL: 'cb.example' }, 'PUBLIC_BASE_URL must be an http(s) URL'],
    [{ ACCESS_DECISION_CACHE_SIZE: '-1' }, 'ACCESS_DECISION_CACHE_SIZE must be a whole number of 0 or more'],
    [{ ACCESS_DECISION_CACHE_SECONDS: '1.5' }, 'ACCESS_DECISION_CACHE_SECONDS must be a whole number of 0 or more'],
    [{ ACCESS_DECISION_CACHE_SECONDS: '301' }, 'ACCESS_DECISION_CACHE_SECONDS must be at most 300'],
    [{ DATABASE_PREPARED_STATEMENTS: 'no' }, 'DATABASE_PREPARED_STATEMENTS must be true or false'],
  ])('%j is refused with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
