import type { Capability, Operation } from './capabilities.js';
import type { PathRule } from './policy-text.js';

/** The rules of one policy and the namespace it lives in. */
export interface NamespacedPolicy {
  name: string;
  /** "" for the root namespace, else `team-b/`. */
  namespace: string;
  rules: PathRule[];
}

/** A rule with `+` segments, taken apart for matching. */
interface SegmentRule {
  /** The pattern without a trailing `*`. */
  base: string;
  parts: string[];
  endsWithGlob: boolean;
  grant: Set<Capability>;
}

/** A non-exact rule that matched a path, with what ranks it. */
interface Candidate {
  firstWildcard: number;
  isPrefix: boolean;
  wildcards: number;
  base: string;
  grant: Set<Capability>;
}

/**
 * Adds what one rule grants on a pattern to what earlier rules (of this or
 * other policies) granted on the same pattern: the grants add up, except
 * that `deny` on a pattern leaves nothing else standing there.
 */
const merge = (
  table: Map<string, Set<Capability>>,
  pattern: string,
  capabilities: Capability[],
) => {
  const earlier = table.get(pattern);
  if (earlier?.has('deny')) return;
  if (capabilities.includes('deny')) {
    table.set(pattern, new Set(['deny']));
    return;
  }
  table.set(pattern, new Set([...(earlier ?? []), ...capabilities]));
};

/** Vault treats `+` as a wildcard only when it is a whole segment. */
const hasSegmentWildcards = (pattern: string) =>
  pattern === '+' || pattern.includes('/+') || pattern.startsWith('+/');

/** Exact paths are kept without a trailing slash, as requests are. */
const withoutTrailingSlash = (path: string) =>
  path.endsWith('/') ? path.slice(0, -1) : path;

/**
 * Ranks two matching rules as Vault does when several match one path: the
 * one whose first wildcard comes later wins; then a rule without a
 * trailing `*` beats one with; then fewer `+` segments; then the longer
 * pattern; then, arbitrarily but stably, the greater one. Positive when
 * `a` wins.
 */
const compareCandidates = (a: Candidate, b: Candidate) => {
  if (a.firstWildcard !== b.firstWildcard) {
    return a.firstWildcard - b.firstWildcard;
  }
  if (a.isPrefix !== b.isPrefix) return a.isPrefix ? -1 : 1;
  if (a.wildcards !== b.wildcards) return b.wildcards - a.wildcards;
  if (a.base.length !== b.base.length) return a.base.length - b.base.length;
  return a.base < b.base ? -1 : a.base > b.base ? 1 : 0;
};

/**
 * A token's policies compiled for checking requests, with Vault's rules:
 * the rule of an exact path wins over any pattern; among patterns (a
 * trailing `*` glob, `+` for one segment) the most specific one as Vault
 * ranks them decides alone; and on any one pattern `deny` wins over
 * everything the token's policies grant there. A path no rule matches is
 * denied. Paths are full paths, the namespace first: a policy of `team-b/`
 * that names `sys/mounts` governs `team-b/sys/mounts`.
 */
export class Acl {
  readonly isRoot: boolean;
  readonly #exact = new Map<string, Set<Capability>>();
  readonly #prefixes = new Map<string, Set<Capability>>();
  readonly #segments: SegmentRule[] = [];

  private constructor(isRoot: boolean, policies: NamespacedPolicy[] = []) {
    this.isRoot = isRoot;
    const segmentGrants = new Map<string, Set<Capability>>();
    for (const policy of policies) {
      for (const rule of policy.rules) {
        const pattern = `${policy.namespace}${rule.path}`;
        if (hasSegmentWildcards(pattern)) {
          merge(segmentGrants, pattern, rule.capabilities);
        } else if (pattern.endsWith('*')) {
          merge(this.#prefixes, pattern.slice(0, -1), rule.capabilities);
        } else {
          merge(this.#exact, withoutTrailingSlash(pattern), rule.capabilities);
        }
      }
    }
    for (const [pattern, grant] of segmentGrants) {
      const endsWithGlob = pattern.endsWith('*');
      const base = endsWithGlob ? pattern.slice(0, -1) : pattern;
      this.#segments.push({
        base,
        parts: base.split('/'),
        endsWithGlob,
        grant,
      });
    }
  }

  /** The root policy: every path, every capability. */
  static root(): Acl {
    return new Acl(true);
  }

  /**
   * @example
   * const acl = Acl.fromPolicies([
   *   { name: 'deploy', namespace: 'team-b/', rules: [
   *     { path: 'sys/plugins/reload/backend', capabilities: ['update'] },
   *   ] },
   * ]);
   * acl.allows('team-b/sys/plugins/reload/backend', 'update'); // true
   */
  static fromPolicies(policies: NamespacedPolicy[]): Acl {
    return new Acl(false, policies);
  }

  /**
   * What the policies grant on a full path for an operation, from the one
   * rule that governs it; empty when no rule matches.
   */
  grantOn(path: string, operation: Operation): ReadonlySet<Capability> {
    const exact = this.#exact.get(withoutTrailingSlash(path));
    if (exact) return exact;
    // A list names a folder: Vault asks for `folder/`, so a rule such as
    // `sys/policies/acl/*` governs listing `sys/policies/acl`. The path
    // without the slash is tried first, as Vault does.
    const tries =
      operation === 'list'
        ? [withoutTrailingSlash(path), `${withoutTrailingSlash(path)}/`]
        : [path];
    for (const candidate of tries) {
      const grant = this.#nonExactGrant(candidate);
      if (grant) return grant;
    }
    return new Set();
  }

  /**
   * Whether the operation is allowed on the full path; `sudo` asks in
   * addition for the root privileges that Vault's root-protected paths
   * need.
   */
  allows(
    path: string,
    operation: Operation,
    options: { sudo?: boolean } = {},
  ): boolean {
    if (this.isRoot) return true;
    const grant = this.grantOn(path, operation);
    if (grant.has('deny') || !grant.has(operation)) return false;
    return !options.sudo || grant.has('sudo');
  }

  /** Whether the token holds `sudo` on the path, as some writes ask. */
  hasSudo(path: string): boolean {
    if (this.isRoot) return true;
    const grant = this.grantOn(path, 'update');
    return grant.has('sudo') && !grant.has('deny');
  }

  #nonExactGrant(path: string): Set<Capability> | undefined {
    const candidates: Candidate[] = [];
    let longestPrefix: string | undefined;
    for (const prefix of this.#prefixes.keys()) {
      if (
        path.startsWith(prefix) &&
        (longestPrefix === undefined || prefix.length > longestPrefix.length)
      ) {
        longestPrefix = prefix;
      }
    }
    if (longestPrefix !== undefined) {
      candidates.push({
        firstWildcard: longestPrefix.length,
        isPrefix: true,
        wildcards: 0,
        base: longestPrefix,
        grant: this.#prefixes.get(longestPrefix) as Set<Capability>,
      });
    }
    const pathParts = path.split('/');
    for (const rule of this.#segments) {
      const wildcards = matchSegments(rule, pathParts);
      if (wildcards === undefined) continue;
      candidates.push({
        firstWildcard: rule.base.indexOf('+'),
        isPrefix: rule.endsWithGlob,
        wildcards,
        base: rule.base,
        grant: rule.grant,
      });
    }
    let best: Candidate | undefined;
    for (const candidate of candidates) {
      if (!best || compareCandidates(candidate, best) > 0) best = candidate;
    }
    return best?.grant;
  }
}

/**
 * Matches a rule with `+` segments against a path, segment by segment; a
 * trailing `*` lets the last segment of the rule be a prefix and lets the
 * path go on. The number of `+` segments, or undefined for no match.
 */
const matchSegments = (
  rule: SegmentRule,
  pathParts: string[],
): number | undefined => {
  const { parts, endsWithGlob } = rule;
  if (pathParts.length < parts.length) return undefined;
  if (!endsWithGlob && pathParts.length !== parts.length) return undefined;
  let wildcards = 0;
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index] as string;
    const pathPart = pathParts[index] as string;
    if (part === '+') {
      wildcards++;
    } else if (part === pathPart) {
      // Matches as written.
    } else if (
      endsWithGlob &&
      index === parts.length - 1 &&
      pathPart.startsWith(part)
    ) {
      // The glob covers the rest of this segment and of the path.
    } else {
      return undefined;
    }
  }
  return wildcards;
};
