import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** DynamoDB Local's `http://127.0.0.1:PORT`, shared by the whole run. */
    dynamoEndpoint: string;
  }
}

/**
 * Starts one DynamoDB Local for the whole test run and hands its endpoint to
 * the tests, which each work in tables of their own.
 *
 * @example
 * // in a test
 * const endpoint = inject('dynamoEndpoint');
 */
export default async function setup(project: TestProject) {
  // Set before anything builds an SDK client, so none of them searches the
  // machine or the instance metadata endpoint for real credentials.
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';

  const dynamodb = await startDynamoDbLocal();
  // Code that finds DynamoDB the way the SDK does reaches this engine too,
  // never a real AWS endpoint.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamodb.endpoint;
  project.provide('dynamoEndpoint', dynamodb.endpoint);

  return async () => {
    await dynamodb.stop();
  };
}
