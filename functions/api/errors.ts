/**
 * The failures the API knows how to answer, one class each. Route code throws
 * these; `toErrorResponse` in `error-response.ts` is the one place that turns
 * them, and anything else that was thrown, into Vault's HTTP answers.
 */
export class VaultError extends Error {
  readonly statusCode: number;
  readonly messages: string[];

  constructor(statusCode: number, messages: string[], options?: ErrorOptions) {
    super(messages.join('; '), options);
    this.name = new.target.name;
    this.statusCode = statusCode;
    this.messages = messages;
  }
}

/** 400: the request itself is wrong, and nothing was changed. */
export class InvalidRequestError extends VaultError {
  constructor(messages: string | string[], options?: ErrorOptions) {
    super(400, typeof messages === 'string' ? [messages] : messages, options);
  }
}

/**
 * 403: the caller may not do this. The message never says whether the thing
 * asked for exists.
 */
export class PermissionDeniedError extends VaultError {
  constructor() {
    super(403, ['permission denied']);
  }
}

/** 404: no such path, reload id or mount. */
export class NotFoundError extends VaultError {
  constructor(message: string) {
    super(404, [message]);
  }
}

/** 405: the path exists but does not take this method. */
export class UnsupportedOperationError extends VaultError {
  constructor() {
    super(405, ['unsupported operation']);
  }
}

/**
 * 429: too many writers raced for the same mounts and this request gave up
 * waiting its turn; retrying is safe because nothing was written.
 */
export class ContendedReloadError extends VaultError {
  constructor() {
    super(429, [
      'too many concurrent reloads of the same mounts; nothing was changed, retry the request',
    ]);
  }
}
