/**
 * Vault's capabilities, the verbs a policy grants on a path. `deny` is not
 * granted but taken away: on a path where any policy says `deny`, nothing
 * else that policies grant there counts.
 */
export const CAPABILITIES = [
  'create',
  'read',
  'update',
  'patch',
  'delete',
  'list',
  'sudo',
  'deny',
  // Known to Vault and accepted in policies, though no path here uses them.
  'subscribe',
  'recover',
  'scan',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** What a request does to its path, as Vault names the operations. */
export type Operation =
  | 'create'
  | 'read'
  | 'update'
  | 'patch'
  | 'delete'
  | 'list';

/**
 * The operation of an HTTP request, as Vault derives it: GET reads (or
 * lists, with `?list=true`), LIST lists, PUT and POST update, DELETE
 * deletes. A write becomes `create` only on paths that say whether their
 * item exists yet; `undefined` means the method is not one Vault knows.
 */
export const operationOf = (
  method: string,
  query: Record<string, string | undefined>,
  itemExists?: boolean,
): Operation | undefined => {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return isTrue(query.list) ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'PUT':
    case 'POST':
      return itemExists === false ? 'create' : 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return undefined;
  }
};

/** Vault reads `list=true`, `list=1` and the other spellings of true. */
const isTrue = (value: string | undefined) =>
  value !== undefined && /^(1|t|true)$/i.test(value.trim());

/**
 * Vault's old one-word policies, still accepted in a path block as
 * `policy = "write"`.
 */
export const OLD_STYLE_POLICIES: Record<string, Capability[]> = {
  deny: ['deny'],
  read: ['read', 'list'],
  write: ['create', 'read', 'update', 'delete', 'list'],
  sudo: ['create', 'read', 'update', 'delete', 'list', 'sudo'],
};
