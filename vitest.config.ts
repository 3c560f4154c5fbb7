import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Dummy credentials and a region for every test worker, so the AWS SDK
    // never looks for real ones on this machine or a metadata endpoint.
    env: {
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    pool: 'forks',
    // DynamoDB Local and the local stack start Java; on a busy machine
    // that alone can take most of a minute.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
