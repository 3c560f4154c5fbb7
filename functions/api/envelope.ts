import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const JSON_HEADERS = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
};

/** A JSON answer with the headers every response of the API carries. */
export const jsonResponse = (
  statusCode: number,
  body: unknown,
): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: JSON_HEADERS,
  body: JSON.stringify(body),
});

/** An answer with no body, as Vault gives for writes that return nothing. */
export const emptyResponse = (): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 204,
  headers: { 'cache-control': 'no-store' },
});

export interface SuccessOptions {
  statusCode?: number;
  warnings?: string[];
  /** Keys Vault repeats beside the envelope for older clients. */
  topLevel?: Record<string, unknown>;
  /** Vault's `auth` block, on the answers that make a token. */
  auth?: Record<string, unknown>;
}

/** Vault's success envelope around `data`. */
export const vaultResponse = (
  requestId: string,
  data: Record<string, unknown> | null,
  options: SuccessOptions = {},
): APIGatewayProxyStructuredResultV2 =>
  jsonResponse(options.statusCode ?? 200, {
    ...options.topLevel,
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: options.warnings?.length ? options.warnings : null,
    auth: options.auth ?? null,
  });

/** Vault's error shape. */
export const errorResponse = (statusCode: number, messages: string[]) =>
  jsonResponse(statusCode, { errors: messages });
