import * as z from 'zod';
import {
  PolicySyntaxError,
  parsePolicyText,
} from '../../catalog/acl/policy-text.js';
import {
  deletePolicy,
  listPolicyNames,
  normalisePolicyName,
  PolicyNameError,
  readPolicy,
  writePolicy,
} from '../../catalog/policies.js';
import { emptyResponse, vaultResponse } from '../envelope.js';
import { InvalidRequestError, VaultError } from '../errors.js';
import { readBody } from '../request-body.js';
import type { RouteHandler, RouteInput } from '../route.js';

/**
 * The largest policy text taken. A policy is one catalog item, which holds
 * at most 400 KB with its parsed rules beside the text.
 */
const LARGEST_POLICY_BYTES = 128 * 1024;

const policyBody = z.object({
  policy: z.string({ error: 'expected a string' }).nullish(),
  /** The older name of `policy` on `sys/policy/:name`. */
  rules: z.string({ error: 'expected a string' }).nullish(),
});

/**
 * Vault accepts a policy base64-encoded too; text that decodes cleanly as
 * standard base64 is taken as such, as Vault does.
 */
const decodeBase64 = (text: string) => {
  const compact = text.trim();
  if (
    compact === '' ||
    compact.length % 4 !== 0 ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)
  ) {
    return text;
  }
  return Buffer.from(compact, 'base64').toString('utf8');
};

const nameOf = (input: RouteInput) =>
  normalisePolicyName(input.params.name ?? '');

/** Vault answers a read of a missing policy with 404 and no message. */
const noSuchPolicy = () => new VaultError(404, []);

/** Turns the catalog's refusals into Vault's 400 answers. */
const asBadRequest = async <T>(work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (error) {
    if (
      error instanceof PolicyNameError ||
      error instanceof PolicySyntaxError
    ) {
      throw new InvalidRequestError(error.message, { cause: error });
    }
    throw error;
  }
};

/**
 * Reads a policy; `sys/policy/:name` names the text `rules`, as Vault's
 * older path does, and `sys/policies/acl/:name` names it `policy`.
 */
const readPolicyAs =
  (field: 'rules' | 'policy'): RouteHandler =>
  async (input) => {
    const name = nameOf(input);
    const policy = await readPolicy(
      input.catalog,
      input.request.namespace,
      name,
    );
    if (!policy) throw noSuchPolicy();
    const data = { name: policy.name, [field]: policy.text };
    // The older path repeats the answer beside the envelope.
    return vaultResponse(input.request.requestId, data, {
      topLevel: field === 'rules' ? data : undefined,
    });
  };

const writePolicyFrom =
  (olderPath: boolean): RouteHandler =>
  async (input) => {
    const { value, warnings } = readBody(policyBody, input.body);
    let text = value.policy ?? '';
    if (text === '' && olderPath && value.rules) {
      text = value.rules;
      warnings.push("'rules' is deprecated, please use 'policy' instead");
    }
    if (text === '') {
      throw new InvalidRequestError("'policy' parameter not supplied or empty");
    }
    text = decodeBase64(text);
    if (Buffer.byteLength(text) > LARGEST_POLICY_BYTES) {
      throw new InvalidRequestError(
        `policy is larger than the ${LARGEST_POLICY_BYTES} bytes one policy may hold`,
      );
    }
    const name = nameOf(input);
    await asBadRequest(async () => {
      const rules = await parsePolicyText(text);
      await writePolicy(input.catalog, {
        name,
        namespace: input.request.namespace,
        text,
        rules,
      });
    });
    return warnings.length > 0
      ? vaultResponse(input.request.requestId, null, { warnings })
      : emptyResponse();
  };

const deletePolicyHandler: RouteHandler = async (input) => {
  await asBadRequest(() =>
    deletePolicy(input.catalog, input.request.namespace, nameOf(input)),
  );
  return emptyResponse();
};

/** `GET sys/policy`: the older listing, with `policies` beside `keys`. */
export const listPoliciesLegacyHandler: RouteHandler = async (input) => {
  const names = await listPolicyNames(input.catalog, input.request.namespace);
  const data = { keys: names, policies: names };
  return vaultResponse(input.request.requestId, data, { topLevel: data });
};

/**
 * `LIST sys/policies/acl`, or `GET` with `?list=true`: the names of the
 * namespace's policies. A plain GET is not a listing in Vault.
 */
export const listPoliciesHandler: RouteHandler = async (input) => {
  if (input.request.method === 'GET' && !isList(input.request.query.list)) {
    throw new VaultError(405, ['unsupported operation']);
  }
  const names = await listPolicyNames(input.catalog, input.request.namespace);
  return vaultResponse(input.request.requestId, { keys: names });
};

const isList = (value: string | undefined) =>
  value !== undefined && /^(1|t|true)$/i.test(value.trim());

export const readPolicyLegacyHandler = readPolicyAs('rules');
export const readPolicyHandler = readPolicyAs('policy');
export const writePolicyLegacyHandler = writePolicyFrom(true);
export const writePolicyHandler = writePolicyFrom(false);
export { deletePolicyHandler };
