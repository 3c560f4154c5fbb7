import * as z from 'zod';
import { emptyResponse, vaultResponse } from '../envelope.js';
import type { VaultRequest } from '../vault-request.js';

/**
 * Request fields the catalog management routes share, read as Vault reads
 * them, and the answers they give.
 */

const TRUE_WORDS = new Set(['true', '1', 't', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'f', 'no', '']);

/** A boolean as Vault takes it: JSON true or false, or "true", "1", "false". */
export const flag = (message: string) =>
  z
    .union([z.boolean(), z.string(), z.number()], { error: message })
    .nullish()
    .transform((value, context) => {
      if (value === undefined || value === null) return undefined;
      if (typeof value === 'boolean') return value;
      const word = String(value).trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      context.addIssue({ code: 'custom', message });
      return z.NEVER;
    });

/** A list of strings, or one comma-separated string; absent stays absent. */
export const stringList = (message: string) =>
  z
    .union([z.array(z.string(), { error: message }), z.string()], {
      error: message,
    })
    .nullish()
    .transform((value) => {
      if (value === undefined || value === null) return undefined;
      const items = typeof value === 'string' ? value.split(',') : value;
      return items.map((item) => item.trim()).filter((item) => item !== '');
    });

/** Vault's string maps (`options`): numbers and booleans become strings. */
export const stringMap = (message: string) =>
  z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]), {
      error: message,
    })
    .nullish()
    .transform((value) =>
      value
        ? Object.fromEntries(
            Object.entries(value).map(([key, item]) => [key, String(item)]),
          )
        : value,
    );

/** A TTL: seconds, or a duration such as "1h". */
export const ttlField = (message: string) =>
  z.union([z.number(), z.string()], { error: message }).optional();

/**
 * Whether a request asks for a listing: Vault's `LIST`, or `GET` with
 * `?list=true`, since API Gateway does not pass `LIST` on.
 */
export const asksForList = (request: VaultRequest) =>
  request.method === 'LIST' ||
  TRUE_WORDS.has(String(request.query.list ?? '').toLowerCase());

/**
 * The flag that turns off the reload a version change brings, for those who
 * want Vault's behaviour: in the body, or for a `DELETE` in the query.
 */
export const SKIP_RELOAD = 'skip_reload';

export const skipReloadOf = (
  request: VaultRequest,
  fromBody: boolean | undefined,
) =>
  fromBody ??
  TRUE_WORDS.has(String(request.query[SKIP_RELOAD] ?? '').toLowerCase());

/** What a catalog write answers: the reload it caused, if any, and warnings. */
export const changeResponse = (
  request: VaultRequest,
  outcome: { reloadId?: string; warnings: string[] },
) => {
  if (outcome.reloadId) {
    return vaultResponse(
      request.requestId,
      { reload_id: outcome.reloadId },
      { warnings: outcome.warnings },
    );
  }
  if (outcome.warnings.length > 0) {
    return vaultResponse(request.requestId, null, {
      warnings: outcome.warnings,
    });
  }
  return emptyResponse();
};
