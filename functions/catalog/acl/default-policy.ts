import type { PathRule } from './policy-text.js';

/**
 * The `default` policy every namespace has until someone writes their own:
 * Vault's default policy cut down to the paths this service serves, so that
 * a token can look itself up and revoke itself. Like Vault's, it can be
 * rewritten but not deleted.
 */
export const DEFAULT_POLICY_TEXT = `# Lets a token look up its own properties.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Lets a token revoke itself and the tokens it made.
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
`;

/** `DEFAULT_POLICY_TEXT` as read, so no request has to parse it. */
export const DEFAULT_POLICY_RULES: PathRule[] = [
  { path: 'auth/token/lookup-self', capabilities: ['read'] },
  { path: 'auth/token/revoke-self', capabilities: ['update'] },
];
