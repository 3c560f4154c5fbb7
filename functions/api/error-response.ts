import { errorResponse } from './envelope.js';
import { VaultError } from './errors.js';

/** AWS SDK error names that mean DynamoDB asked us to slow down. */
const THROTTLING_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

interface HttpErrorLike {
  statusCode?: unknown;
  $metadata?: unknown;
  $fault?: unknown;
  name?: unknown;
}

export interface ErrorAnswer {
  statusCode: number;
  messages: string[];
  /** Why, for the log line; never sent to the client. */
  reason: string;
}

/**
 * The one place where anything thrown becomes Vault's error answer. No
 * answer carries a stack trace, an AWS error name or a token: an unexpected
 * failure says only that it happened, and the log line keeps the reason.
 */
export const toErrorAnswer = (error: unknown): ErrorAnswer => {
  if (error instanceof VaultError) {
    return {
      statusCode: error.statusCode,
      messages: error.messages,
      reason: error.name,
    };
  }
  const thrown = (error ?? {}) as HttpErrorLike;
  // middy answers for the handler just before Lambda's deadline, and the SDK
  // gives up on a request DynamoDB did not answer in time.
  if (thrown.name === 'TimeoutError') {
    return {
      statusCode: 503,
      messages: [
        'the request did not finish in time; a reload of many mounts may have moved some of them, so read its status or retry it',
      ],
      reason: 'TimeoutError',
    };
  }
  // middy's JSON body parser throws 415 for a body that is not JSON; Vault
  // answers that with 400.
  if (thrown.statusCode === 415 && !thrown.$metadata) {
    return {
      statusCode: 400,
      messages: ['failed to parse JSON input: the request body is not JSON'],
      reason: 'MalformedJson',
    };
  }
  if (thrown.$metadata !== undefined || isNetworkError(error)) {
    const name = String(thrown.name ?? 'Error');
    // DynamoDB refusing a request as malformed is our mistake, not an
    // outage, and retrying would not help.
    if (thrown.$fault === 'client' && !THROTTLING_ERRORS.has(name)) {
      return { statusCode: 500, messages: ['internal error'], reason: name };
    }
    if (THROTTLING_ERRORS.has(name)) {
      return {
        statusCode: 429,
        messages: [
          'the catalog is throttling requests; nothing was changed, retry later',
        ],
        reason: name,
      };
    }
    return {
      statusCode: 503,
      messages: [
        'the catalog is unavailable; nothing was changed, retry later',
      ],
      reason: name,
    };
  }
  return {
    statusCode: 500,
    messages: ['internal error'],
    reason: error instanceof Error ? error.name : 'UnknownError',
  };
};

/** Errors from the socket layer, before DynamoDB gave any answer. */
const isNetworkError = (error: unknown) =>
  error instanceof Error &&
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(
    String((error as { code?: unknown }).code ?? ''),
  );

export const toErrorResponse = (error: unknown) => {
  const answer = toErrorAnswer(error);
  return {
    answer,
    response: errorResponse(answer.statusCode, answer.messages),
  };
};
