import { createCatalog } from '../catalog/client.js';
import { createApiHandler } from './app.js';
import { bootstrapRootToken, readDeploymentSecrets } from './bootstrap.js';
import {
  instrumentCatalog,
  logger,
  metrics,
  observeRequests,
  tracer,
} from './observability.js';

/**
 * How long one DynamoDB attempt may take, set by the stack. DynamoDB
 * answers in milliseconds; an attempt that takes seconds is stuck, and the
 * SDK's next attempt (the same transaction, with the same idempotency
 * token) is more likely to succeed than waiting on. None on one machine,
 * where DynamoDB Local may be slow under load.
 */
const attemptTimeoutMs =
  Number(process.env.DYNAMODB_ATTEMPT_TIMEOUT_MS) || undefined;

/**
 * Metrics and traces are written only in Lambda, where CloudWatch reads
 * metrics from the log and X-Ray takes the traces; on one machine they
 * would only crowd the request log.
 */
const inLambda = process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
const tools = { metrics, tracer };

// Everything below runs once per container, at cold start: the catalog
// client and its open connections, the secrets, and the root token.
const catalog = createCatalog({ requestTimeoutMs: attemptTimeoutMs });
if (inLambda) instrumentCatalog(catalog, tools);
const { tokenHmacKey, rootToken } = await readDeploymentSecrets();
if (rootToken) await bootstrapRootToken(catalog, rootToken, tokenHmacKey);

/**
 * The Lambda entry point behind `ANY /v1/{proxy+}`. The local stack runs it
 * too, with `TOKEN_HMAC_KEY` in the environment instead of the secrets.
 */
export const handler = createApiHandler({
  catalog,
  tokenHmacKey,
  logger,
  observability: inLambda ? observeRequests(tools) : [],
});
