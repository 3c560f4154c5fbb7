import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_POLICY_RULES,
  DEFAULT_POLICY_TEXT,
} from './acl/default-policy.js';
import type { PathRule } from './acl/policy-text.js';
import { batchGet } from './batch-get.js';
import type { Catalog } from './client.js';
import { policyCollectionKey, policyKey } from './keys.js';
import { queryAll } from './query.js';

/** An ACL policy as the catalog keeps it: the text and its rules. */
export interface PolicyItem {
  pk: string;
  sk: string;
  name: string;
  namespace: string;
  /** The text as it was written, HCL or JSON, for reading back. */
  text: string;
  /** The text already parsed, so that no request parses a policy. */
  rules: PathRule[];
  updatedAt: string;
}

/** A policy as a request sees it, stored or built in. */
export type Policy = Pick<PolicyItem, 'name' | 'namespace' | 'text' | 'rules'>;

/**
 * A write Vault refuses for the `root` and `default` policies, or a name
 * that cannot be a policy's.
 */
export class PolicyNameError extends Error {
  override readonly name = 'PolicyNameError';
}

/** Policy names are case-insensitive in Vault and kept in lower case. */
export const normalisePolicyName = (written: string) =>
  written.trim().toLowerCase();

/** The longest policy name accepted, far more than any real one needs. */
const LONGEST_NAME = 128;

const checkName = (name: string) => {
  if (name === '') {
    throw new PolicyNameError('policy name must be provided in the URL');
  }
  const hasControlCharacter = [...name].some(
    (character) => character.charCodeAt(0) < 0x20,
  );
  if (name.length > LONGEST_NAME || hasControlCharacter) {
    throw new PolicyNameError(`invalid policy name "${name}"`);
  }
};

const builtInDefault = (namespace: string): Policy => ({
  name: 'default',
  namespace,
  text: DEFAULT_POLICY_TEXT,
  rules: DEFAULT_POLICY_RULES,
});

/**
 * The root policy has no rules to read: it allows everything, and only in
 * the root namespace.
 */
const rootPolicy: Policy = { name: 'root', namespace: '', text: '', rules: [] };

/**
 * Reads several policies of one namespace in one batch, skipping names
 * that do not exist. `default` is the built-in one until it is rewritten;
 * `root` is not read, since it grants everything.
 *
 * @example
 * const policies = await readPolicies(catalog, 'team-b/', ['deploy']);
 */
export const readPolicies = async (
  catalog: Catalog,
  namespace: string,
  names: string[],
): Promise<Policy[]> => {
  const wanted = [...new Set(names)].filter((name) => name !== 'root');
  if (wanted.length === 0) return [];
  const items = await batchGet<PolicyItem>(
    catalog,
    wanted.map((name) => policyKey(namespace, name)),
  );
  return policiesOf(namespace, wanted, items);
};

/**
 * The policies named on a token, from items read with `policyKey`: the
 * stored ones, and the built-in `default` where none was written.
 */
export const policiesOf = (
  namespace: string,
  names: string[],
  items: ReadonlyArray<{ pk: string; sk: string }>,
): Policy[] => {
  const stored = new Map(
    items
      .filter((item) => item.pk === policyCollectionKey(namespace))
      .map((item) => [item.sk, item as PolicyItem]),
  );
  const policies: Policy[] = [];
  for (const name of new Set(names)) {
    const item = stored.get(name);
    if (item) policies.push(item);
    else if (name === 'default') policies.push(builtInDefault(namespace));
  }
  return policies;
};

/** One policy, stored or built in, or undefined when there is none. */
export const readPolicy = async (
  catalog: Catalog,
  namespace: string,
  name: string,
): Promise<Policy | undefined> => {
  if (name === 'root') return namespace === '' ? rootPolicy : undefined;
  const [policy] = await readPolicies(catalog, namespace, [name]);
  return policy;
};

/**
 * Writes a policy, replacing one of the same name. The rules must come from
 * `parsePolicyText` of the same text.
 *
 * @throws {PolicyNameError} for `root` or a name that cannot be one.
 */
export const writePolicy = async (
  catalog: Catalog,
  policy: Omit<Policy, 'name'> & { name: string },
): Promise<void> => {
  checkName(policy.name);
  if (policy.name === 'root') {
    throw new PolicyNameError('cannot update "root" policy');
  }
  const item: PolicyItem = {
    ...policyKey(policy.namespace, policy.name),
    name: policy.name,
    namespace: policy.namespace,
    text: policy.text,
    rules: policy.rules,
    updatedAt: new Date().toISOString(),
  };
  await catalog.client.send(
    new PutCommand({ TableName: catalog.tableName, Item: item }),
  );
};

/**
 * Deletes a policy; deleting one that does not exist is not an error, as
 * in Vault. Tokens that name it keep the name and lose what it granted.
 *
 * @throws {PolicyNameError} for `root` and `default`, which always exist.
 */
export const deletePolicy = async (
  catalog: Catalog,
  namespace: string,
  name: string,
): Promise<void> => {
  checkName(name);
  if (name === 'root' || name === 'default') {
    throw new PolicyNameError(`cannot delete "${name}" policy`);
  }
  await catalog.client.send(
    new DeleteCommand({
      TableName: catalog.tableName,
      Key: policyKey(namespace, name),
    }),
  );
};

/**
 * The names of a namespace's policies, sorted, `default` always among them
 * and `root` in the root namespace, as Vault lists them. One Query on the
 * namespace's item collection, reading only the names.
 */
export const listPolicyNames = async (
  catalog: Catalog,
  namespace: string,
): Promise<string[]> => {
  const items = await queryAll<{ sk: string }>(catalog, {
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
    ExpressionAttributeValues: { ':pk': policyCollectionKey(namespace) },
    ProjectionExpression: '#sk',
    ConsistentRead: true,
  });
  const names = new Set(items.map((item) => item.sk));
  names.add('default');
  if (namespace === '') names.add('root');
  return [...names].sort();
};
