import {
  CAPABILITIES,
  type Capability,
  OLD_STYLE_POLICIES,
} from './capabilities.js';

/** One `path` block of a policy: a path pattern and what it grants. */
export interface PathRule {
  /**
   * As written, relative to the policy's namespace, without a leading `/`:
   * an exact path, a prefix ending in `*`, or segments with `+` wildcards.
   */
  path: string;
  capabilities: Capability[];
}

/**
 * Policy text that cannot be read as a Vault ACL policy. The message says
 * what is wrong in the words Vault uses, so a caller can fix it.
 */
export class PolicySyntaxError extends Error {
  override readonly name = 'PolicySyntaxError';
}

/** The keys Vault reads at the top of a policy. */
const TOP_LEVEL_KEYS = new Set(['path', 'name']);

/** The keys of a `path` block this service applies. */
const APPLIED_PATH_KEYS = new Set(['capabilities', 'policy', 'comment']);

/**
 * Keys Vault knows in a `path` block that each narrow what the block
 * grants (which parameters, which wrapping TTLs, MFA, control groups).
 * Ignoring one would grant more than the policy says, so a policy that
 * uses them is refused instead.
 */
const NARROWING_PATH_KEYS = new Set([
  'allowed_parameters',
  'denied_parameters',
  'required_parameters',
  'min_wrapping_ttl',
  'max_wrapping_ttl',
  'mfa_methods',
  'control_group',
  'pagination_limit',
  'list_scan_response_keys_filter_path',
  'expiration',
]);

const KNOWN_CAPABILITIES = new Set<string>(CAPABILITIES);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** HCL gives a repeated block as a list and a single one as an object. */
const blocksOf = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : [value];

/**
 * HashiCorp's HCL v1 parser, the one Vault itself reads policies with. It
 * is large, so it is loaded on the first policy written, not on every cold
 * start of the API.
 */
type HclParser = typeof import('js-hcl-parser');
let hclParser: Promise<HclParser> | undefined;
const loadHclParser = () => {
  // A CommonJS package: its exports arrive as `default` when imported.
  hclParser ??= import('js-hcl-parser').then(
    (module) =>
      (module as unknown as { default?: HclParser }).default ?? module,
  );
  return hclParser;
};

/**
 * Reads a policy written in HCL or in its JSON form (HCL reads both, as in
 * Vault) into its path rules.
 *
 * @throws {PolicySyntaxError} naming what is wrong.
 * @example
 * await parsePolicyText(
 *   'path "sys/plugins/reload/backend" { capabilities = ["update"] }',
 * );
 * // [{ path: 'sys/plugins/reload/backend', capabilities: ['update'] }]
 */
export const parsePolicyText = async (text: string): Promise<PathRule[]> => {
  const hcl = await loadHclParser();
  const output = hcl.parse(text);
  let document: unknown;
  try {
    document = JSON.parse(output);
  } catch {
    // The parser reports a syntax error as text, not as an exception.
    const reason = output.replace(/^unable to parse( JSON)?:\s*/i, '');
    throw new PolicySyntaxError(`failed to parse policy: ${reason}`);
  }
  if (!isObject(document)) {
    throw new PolicySyntaxError(
      'failed to parse policy: does not contain a root object',
    );
  }
  for (const key of Object.keys(document)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      throw new PolicySyntaxError(
        `failed to parse policy: invalid key "${key}"`,
      );
    }
  }
  const rules: PathRule[] = [];
  for (const entry of document.path === undefined
    ? []
    : blocksOf(document.path)) {
    if (!isObject(entry)) {
      throw new PolicySyntaxError(
        'failed to parse policy: a path block needs a quoted path, as in path "sys/mounts" { ... }',
      );
    }
    for (const [written, bodies] of Object.entries(entry)) {
      for (const body of blocksOf(bodies)) {
        rules.push(readPathBlock(written, body));
      }
    }
  }
  return rules;
};

const readPathBlock = (written: string, body: unknown): PathRule => {
  const where = `failed to parse policy: path "${written}"`;
  if (!isObject(body)) {
    throw new PolicySyntaxError(`${where}: expected a block of settings`);
  }
  for (const key of Object.keys(body)) {
    if (NARROWING_PATH_KEYS.has(key)) {
      throw new PolicySyntaxError(
        `${where}: "${key}" is not supported by this service, and a rule ` +
          'that narrows what a path grants cannot be ignored',
      );
    }
    if (!APPLIED_PATH_KEYS.has(key)) {
      throw new PolicySyntaxError(`${where}: invalid key "${key}"`);
    }
  }
  const path = written.startsWith('/') ? written.slice(1) : written;
  if (path.includes('+*')) {
    throw new PolicySyntaxError(
      `${where}: invalid use of wildcards ('+*' is forbidden)`,
    );
  }
  const granted = new Set<Capability>();
  const { capabilities, policy } = body;
  if (capabilities !== undefined) {
    if (
      !Array.isArray(capabilities) ||
      capabilities.some((item) => typeof item !== 'string')
    ) {
      throw new PolicySyntaxError(
        `${where}: capabilities must be a list of strings`,
      );
    }
    for (const capability of capabilities as string[]) {
      const name = capability.trim().toLowerCase();
      if (!KNOWN_CAPABILITIES.has(name)) {
        throw new PolicySyntaxError(
          `${where}: invalid capability "${capability}"`,
        );
      }
      granted.add(name as Capability);
    }
  }
  if (policy !== undefined) {
    const oldStyle =
      typeof policy === 'string' ? OLD_STYLE_POLICIES[policy] : undefined;
    if (!oldStyle) {
      throw new PolicySyntaxError(`${where}: invalid policy "${policy}"`);
    }
    for (const capability of oldStyle) granted.add(capability);
  }
  // A deny takes the place of everything else the block grants.
  const result: Capability[] = granted.has('deny')
    ? ['deny']
    : CAPABILITIES.filter((capability) => granted.has(capability));
  return { path, capabilities: result };
};
