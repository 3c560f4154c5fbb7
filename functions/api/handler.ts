import { createCatalog } from '../catalog/client.js';
import { createApiHandler } from './app.js';

/**
 * The Lambda entry point behind `ANY /v1/{proxy+}`. The catalog client is
 * made once per container, outside the handler, so its connections are kept
 * alive across invocations.
 */
export const handler = createApiHandler({
  catalog: createCatalog(),
  tokenHmacKey: process.env.TOKEN_HMAC_KEY,
});
