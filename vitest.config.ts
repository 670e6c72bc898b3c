import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup-cleanup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start real processes on real ports; two cores in CI.
    maxWorkers: 2,
  },
});
