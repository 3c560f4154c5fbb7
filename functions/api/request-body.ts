import * as z from 'zod';
import { InvalidRequestError } from './errors.js';

/**
 * Validates a request body against a route's schema. Vault ignores fields it
 * does not know and says so in a warning; a field of the wrong type is a 400
 * that names it.
 */
export const readBody = <S extends z.ZodObject>(
  schema: S,
  body: unknown,
): { value: z.infer<S>; warnings: string[] } => {
  const object = body ?? {};
  if (typeof object !== 'object' || Array.isArray(object)) {
    throw new InvalidRequestError('the request body must be a JSON object');
  }
  const parsed = schema.safeParse(object);
  if (!parsed.success) {
    throw new InvalidRequestError(
      parsed.error.issues.map((issue) =>
        issue.path.length > 0
          ? `invalid value for "${issue.path.join('.')}": ${issue.message}`
          : issue.message,
      ),
    );
  }
  const known = new Set(Object.keys(schema.shape));
  const unknown = Object.keys(object).filter((key) => !known.has(key));
  return {
    value: parsed.data,
    warnings:
      unknown.length > 0
        ? [
            `Endpoint ignored these unrecognized parameters: [${unknown.join(' ')}]`,
          ]
        : [],
  };
};

/** Vault's comma-string-slice: a list, or one comma-separated string. */
export const commaSeparatedList = (message: string) =>
  z
    .union([z.array(z.string(), { error: message }), z.string(), z.null()], {
      error: message,
    })
    .optional()
    .transform((value) =>
      (typeof value === 'string' ? value.split(',') : (value ?? []))
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    );

/** A string field that Vault's Go client may also send as null. */
export const optionalString = (message: string) =>
  z
    .string({ error: message })
    .nullish()
    .transform((value) => value ?? '');
