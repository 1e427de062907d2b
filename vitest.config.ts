import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      // Unit tests are fast alone; the generous timeout only guards against a hang on a loaded machine.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', testTimeout: 60_000 } },
      // Pages in Debian's Chromium (playwright-core); `deploy/local/browser ensure` installs it.
      { test: { name: 'browser', include: ['test/browser/**/*.test.ts'], environment: 'node', testTimeout: 60_000 } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Integration tests share one Kafka and one ClickHouse: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
