// Unit, property and integration tests. Integration tests talk to the real local
// stack (`npm run stack:up`, started by `npm test` itself); they run in band because
// the two cores of a dev machine also host MariaDB, Redis, etcd and Kafka.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 60000,
  slowTestThreshold: 20,
  globalSetup: '<rootDir>/test/support/global-setup.js',
};
