/** Unit tests: pure modules and the embedded store. `*.int.test.ts` (PostgreSQL, Redis) run with jest.int.config.js. */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '\\.int\\.test\\.ts$'],
  testTimeout: 60000,
};
