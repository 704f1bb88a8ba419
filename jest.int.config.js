/** Integration tests against real PostgreSQL (DATABASE_URL) and Redis (REDIS_URL), started by .ci/run or by hand. */
const base = require('./jest.config.js');
module.exports = {
  ...base,
  testMatch: ['<rootDir>/**/*.int.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  maxWorkers: 1,
  // A failing test can leave a pg pool or Redis client open; CI must end rather than wait on it.
  forceExit: true,
};
