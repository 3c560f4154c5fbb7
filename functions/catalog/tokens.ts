import {
  createHmac,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { batchGet } from './batch-get.js';
import type { Catalog } from './client.js';
import { type ItemKey, tokenAccessorKey, tokenKey } from './keys.js';

/**
 * A token as the catalog keeps it: under a keyed hash of the token, never
 * the token itself.
 */
export interface TokenItem {
  pk: string;
  sk: string;
  accessor: string;
  /** Sorted, lower case; `["root"]` alone for a root token. */
  policies: string[];
  /** "" for the root namespace, else `team-b/`. */
  namespace: string;
  displayName: string;
  createdAt: string;
  /** The TTL it was created with, in seconds; absent when it never expires. */
  ttl?: number;
  /** When the token stops working, to the millisecond (ISO 8601). */
  expireTime?: string;
  /**
   * `expireTime` in epoch seconds, rounded up: the table's time-to-live
   * attribute, so DynamoDB deletes the item some time after. Until then
   * the check of `expireTime` is what refuses it.
   */
  expiresAt?: number;
  /** The uses it was created with; absent when its uses are unlimited. */
  numUses?: number;
  /** What is left of `numUses`. */
  usesLeft?: number;
  meta?: Record<string, string>;
  /** Made with no parent: revoking its creator leaves it alone. */
  orphan?: boolean;
  /**
   * The item keys (`pk`) of its parent, the parent's parent and so on. A
   * token whose ancestor is gone was revoked with it, which every check of
   * the token confirms in the same read as the token's policies.
   */
  ancestors?: string[];
  /** The path that created it, as Vault's lookup shows. */
  creationPath?: string;
}

/** Where a token's accessor leads: the item of the token. */
export interface TokenAccessorItem {
  pk: string;
  sk: string;
  tokenPk: string;
  namespace: string;
  expiresAt?: number;
}

/** Every token item has the same sort key; its partition key names it. */
const TOKEN_SORT_KEY = tokenKey('').sk;

/** A use-limited token had no use left by the time it was spent. */
export class TokenUsedUpError extends Error {
  override readonly name = 'TokenUsedUpError';
}

/** A token chosen by its creator (`id`) already exists. */
export class DuplicateTokenError extends Error {
  override readonly name = 'DuplicateTokenError';
}

/**
 * The digest a token is stored and looked up under. With a key (the
 * `TOKEN_HMAC_KEY` of the deployment) it is an HMAC, so that a copy of the
 * table alone does not let anyone test guesses of short tokens; without one
 * it is a plain SHA-256, which still never stores the token in clear.
 * Deployments always pass a key; only tests and tools may leave it out.
 */
export const tokenDigest = (token: string, hmacKey?: string) =>
  createHmac('sha256', hmacKey ?? '')
    .update(token)
    .digest('hex');

/** A fresh token in Vault's service-token form. */
export const generateToken = () =>
  `hvs.${randomBytes(24).toString('base64url')}`;

/** Accessors look like Vault's: 24 characters, safe in a URL. */
const generateAccessor = () => randomBytes(18).toString('base64url');

/** When a token expires in epoch milliseconds, undefined for never. */
export const expiryOf = (token: TokenItem): number | undefined => {
  if (token.expireTime !== undefined) return Date.parse(token.expireTime);
  return token.expiresAt === undefined ? undefined : token.expiresAt * 1000;
};

/** The expiry fields of a token that lasts `ttl` seconds from `now`. */
export const expiryFields = (expiresAtMs: number) => ({
  expireTime: new Date(expiresAtMs).toISOString(),
  expiresAt: Math.ceil(expiresAtMs / 1000),
});

/** Why a stored token cannot be used, or undefined when it can. */
export const tokenRefusal = (
  token: TokenItem,
  now = Date.now(),
): 'expired' | 'used up' | undefined => {
  const expiry = expiryOf(token);
  if (expiry !== undefined && expiry <= now) return 'expired';
  if (token.usesLeft !== undefined && token.usesLeft <= 0) return 'used up';
  return undefined;
};

/** Whole seconds a token has left, 0 for one that never expires. */
export const secondsLeft = (token: TokenItem, now = Date.now()) => {
  const expiry = expiryOf(token);
  return expiry === undefined
    ? 0
    : Math.max(0, Math.floor((expiry - now) / 1000));
};

/** The token's item and its accessor's, written together. */
const creationWrites = (tableName: string, token: TokenItem) => {
  const accessor: TokenAccessorItem = {
    ...tokenAccessorKey(token.accessor),
    tokenPk: token.pk,
    namespace: token.namespace,
    ...(token.expiresAt === undefined ? {} : { expiresAt: token.expiresAt }),
  };
  /** Neither a token nor an accessor is ever written over another one. */
  const isNew = 'attribute_not_exists(pk)';
  return [
    { Put: { TableName: tableName, Item: token, ConditionExpression: isNew } },
    {
      Put: { TableName: tableName, Item: accessor, ConditionExpression: isNew },
    },
  ];
};

/** What a new token holds, apart from what the store makes up. */
export type NewToken = Omit<
  TokenItem,
  'pk' | 'sk' | 'accessor' | 'createdAt' | 'usesLeft'
>;

/**
 * The catalog's tokens. The HMAC key stays inside: the store can be handed
 * to route code without handing out the key.
 *
 * @example
 * const tokens = new TokenStore(catalog, process.env.TOKEN_HMAC_KEY);
 * const caller = await tokens.read(request.token);
 */
export class TokenStore {
  readonly #catalog: Catalog;
  readonly #hmacKey: string | undefined;

  constructor(catalog: Catalog, hmacKey?: string) {
    this.#catalog = catalog;
    this.#hmacKey = hmacKey;
  }

  /** The item key a token is stored under. */
  keyOf(token: string): ItemKey {
    return tokenKey(tokenDigest(token, this.#hmacKey));
  }

  /**
   * The stored item of a token, in one read, whether or not it can still
   * be used; undefined for a token that was never made or was revoked.
   * Nothing is written, so guessing tokens costs one read each.
   */
  async read(token: string): Promise<TokenItem | undefined> {
    const key = this.keyOf(token);
    const [item] = await batchGet<TokenItem & ItemKey>(this.#catalog, [key]);
    // DynamoDB found the item by its key; comparing the digests once more,
    // in constant time, keeps any comparison of a secret from leaking
    // through its timing.
    if (!item || !sameText(item.pk, key.pk)) return undefined;
    return item;
  }

  /**
   * A token that can be used now: stored, not expired, not used up, and
   * none of its ancestors revoked. Two reads at most.
   */
  async find(token: string, now = Date.now()) {
    const item = await this.read(token);
    return item && (await this.#usable(item, now));
  }

  /** Like `find`, by the token's accessor. */
  async findByAccessor(accessor: string, now = Date.now()) {
    if (accessor === '' || accessor.includes('#')) return undefined;
    const [pointer] = await batchGet<TokenAccessorItem>(this.#catalog, [
      tokenAccessorKey(accessor),
    ]);
    if (!pointer) return undefined;
    const [item] = await batchGet<TokenItem>(this.#catalog, [
      { pk: pointer.tokenPk, sk: TOKEN_SORT_KEY },
    ]);
    return item && (await this.#usable(item, now));
  }

  async #usable(item: TokenItem, now: number) {
    if (tokenRefusal(item, now)) return undefined;
    const ancestors = ancestorKeys(item);
    if (ancestors.length === 0) return item;
    const found = await batchGet(this.#catalog, ancestors);
    return ancestorsPresent(item, found) ? item : undefined;
  }

  /**
   * Stores a new token and returns it with its item. The token is random
   * unless `id` chose it.
   *
   * @throws {DuplicateTokenError} when a chosen `id` is taken.
   */
  async create(
    properties: NewToken,
    id?: string,
  ): Promise<{ token: string; item: TokenItem }> {
    const token = id ?? generateToken();
    const item: TokenItem = {
      ...this.keyOf(token),
      ...properties,
      accessor: generateAccessor(),
      createdAt: new Date().toISOString(),
      ...(properties.numUses ? { usesLeft: properties.numUses } : {}),
    };
    try {
      await this.#catalog.client.send(
        new TransactWriteCommand({
          TransactItems: creationWrites(this.#catalog.tableName, item),
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const conflict = error.CancellationReasons?.some(
          (reason) => reason.Code === 'ConditionalCheckFailed',
        );
        if (conflict) throw new DuplicateTokenError('token already exists');
      }
      throw error;
    }
    return { token, item };
  }

  /**
   * Spends one use of a use-limited token, atomically: of two requests
   * racing for the last use, one gets it. Returns the uses left.
   *
   * @throws {TokenUsedUpError} when no use was left.
   */
  async use(token: TokenItem): Promise<number> {
    /** The update only goes through while a use is left. */
    const useLeft = '#usesLeft > :zero';
    try {
      const answer = await this.#catalog.client.send(
        new UpdateCommand({
          TableName: this.#catalog.tableName,
          Key: { pk: token.pk, sk: token.sk },
          UpdateExpression: 'SET #usesLeft = #usesLeft - :one',
          ConditionExpression: useLeft,
          ExpressionAttributeNames: { '#usesLeft': 'usesLeft' },
          ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(answer.Attributes?.usesLeft ?? 0);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new TokenUsedUpError('the token has no use left');
      }
      throw error;
    }
  }

  /**
   * Revokes a token: its item and its accessor go in one transaction. The
   * tokens it made are refused from then on, since their ancestor is gone,
   * and their items expire with their TTL.
   */
  async revoke(token: TokenItem): Promise<void> {
    const { tableName } = this.#catalog;
    await this.#catalog.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: tableName, Key: tokenKeyOf(token) } },
          {
            Delete: {
              TableName: tableName,
              Key: tokenAccessorKey(token.accessor),
            },
          },
        ],
      }),
    );
  }
}

const tokenKeyOf = (token: Pick<TokenItem, 'pk' | 'sk'>): ItemKey => ({
  pk: token.pk,
  sk: token.sk,
});

/** The keys of a token's ancestors, each of which must still exist. */
export const ancestorKeys = (token: TokenItem): ItemKey[] =>
  (token.ancestors ?? []).map((pk) => ({ pk, sk: TOKEN_SORT_KEY }));

/** Whether every ancestor of a token is among items read by key. */
export const ancestorsPresent = (
  token: TokenItem,
  items: Array<{ pk: string; sk: string }>,
) => {
  const found = new Set(items.map((item) => `${item.pk}\n${item.sk}`));
  return ancestorKeys(token).every((key) => found.has(`${key.pk}\n${key.sk}`));
};

/** Compares two strings in constant time. */
const sameText = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/**
 * Stores a root token, or refreshes the one with the same value: it never
 * expires, has every capability, and keeps its accessor across restarts of
 * a local stack that keeps its data.
 *
 * @example
 * await storeRootToken(catalog, 'root', process.env.TOKEN_HMAC_KEY);
 */
export const storeRootToken = async (
  catalog: Catalog,
  token: string,
  hmacKey?: string,
): Promise<void> => {
  const key = tokenKey(tokenDigest(token, hmacKey));
  const existing = await catalog.client.send(
    new GetCommand({ TableName: catalog.tableName, Key: key }),
  );
  const accessor =
    (existing.Item as TokenItem | undefined)?.accessor ?? randomUUID();
  const item: TokenItem = {
    ...key,
    accessor,
    policies: ['root'],
    namespace: '',
    displayName: 'root',
    createdAt: new Date().toISOString(),
    orphan: true,
    creationPath: 'auth/token/root',
  };
  const pointer: TokenAccessorItem = {
    ...tokenAccessorKey(accessor),
    tokenPk: key.pk,
    namespace: '',
  };
  await catalog.client.send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: catalog.tableName, Item: item } },
        { Put: { TableName: catalog.tableName, Item: pointer } },
      ],
    }),
  );
};
