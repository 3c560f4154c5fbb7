import { describe, expect, it } from 'vitest';
import { Acl } from '../../functions/catalog/acl/acl.js';
import { operationOf } from '../../functions/catalog/acl/capabilities.js';
import {
  DEFAULT_POLICY_RULES,
  DEFAULT_POLICY_TEXT,
} from '../../functions/catalog/acl/default-policy.js';
import {
  PolicySyntaxError,
  parsePolicyText,
} from '../../functions/catalog/acl/policy-text.js';
import { isRootPath } from '../../functions/catalog/acl/root-paths.js';

/** An ACL of policies written as text, all in one namespace. */
const aclOf = async (texts: string[], namespace = '') =>
  Acl.fromPolicies(
    await Promise.all(
      texts.map(async (text, index) => ({
        name: `p${index}`,
        namespace,
        rules: await parsePolicyText(text),
      })),
    ),
  );

describe('reading policy text', () => {
  it('reads HCL and its JSON form into the same rules', async () => {
    const hcl = await parsePolicyText(`
      # the deploy pipeline
      path "sys/plugins/reload/backend" {
        capabilities = ["update"]
      }
      path "/sys/mounts/*" { capabilities = ["read", "list"] }
    `);
    const json = await parsePolicyText(
      JSON.stringify({
        path: {
          'sys/plugins/reload/backend': { capabilities: ['update'] },
          '/sys/mounts/*': { capabilities: ['read', 'list'] },
        },
      }),
    );
    expect(hcl).toEqual([
      { path: 'sys/plugins/reload/backend', capabilities: ['update'] },
      { path: 'sys/mounts/*', capabilities: ['read', 'list'] },
    ]);
    expect(json).toEqual(hcl);
  });

  it('maps the old one-word policies to capabilities, deny alone', async () => {
    expect(
      await parsePolicyText(`
        path "a" { policy = "write" }
        path "b" { policy = "read" capabilities = ["sudo"] }
        path "c" { capabilities = ["read", "deny"] }
      `),
    ).toEqual([
      {
        path: 'a',
        capabilities: ['create', 'read', 'update', 'delete', 'list'],
      },
      { path: 'b', capabilities: ['read', 'list', 'sudo'] },
      { path: 'c', capabilities: ['deny'] },
    ]);
  });

  it('reads the built-in default policy as its stored rules', async () => {
    expect(await parsePolicyText(DEFAULT_POLICY_TEXT)).toEqual(
      DEFAULT_POLICY_RULES,
    );
  });

  it.each([
    [
      'path "a" { capabilities = ["read" }',
      /^failed to parse policy: At 1:\d+: /,
    ],
    [
      'path "a" { capabilities = ["fly"] }',
      /path "a": invalid capability "fly"/,
    ],
    ['path "a" { capabilities = "read" }', /capabilities must be a list/],
    ['path "a" { policy = "all" }', /path "a": invalid policy "all"/],
    ['paths "a" { capabilities = ["read"] }', /invalid key "paths"/],
    ['path "a" { colour = "red" }', /path "a": invalid key "colour"/],
    ['path "a/+*" { capabilities = ["read"] }', /'\+\*' is forbidden/],
    [
      'path "a" { capabilities = ["update"] allowed_parameters = { x = [] } }',
      /"allowed_parameters" is not supported/,
    ],
  ])('refuses %s', async (text, message) => {
    const refusal = parsePolicyText(text);
    await expect(refusal).rejects.toBeInstanceOf(PolicySyntaxError);
    await expect(refusal).rejects.toThrow(message);
  });
});

describe("Vault's path rules", () => {
  it('lets a glob allow, and a deny on a more specific path win over it', async () => {
    const acl = await aclOf([
      'path "sys/plugins/reload/*" { capabilities = ["update"] }',
      'path "sys/plugins/reload/backend" { capabilities = ["deny"] }',
    ]);
    expect(acl.allows('sys/plugins/reload/backend', 'update')).toBe(false);
    expect(acl.allows('sys/plugins/reload/secret/x', 'update')).toBe(true);
  });

  it('lets a deny win on the same path whichever policy grants it', async () => {
    const acl = await aclOf([
      'path "sys/mounts/*" { capabilities = ["read"] }',
      'path "sys/mounts/*" { capabilities = ["deny"] }',
    ]);
    expect(acl.allows('sys/mounts/secret', 'read')).toBe(false);
  });

  it('lets an exact path win over a glob that denies', async () => {
    const acl = await aclOf([
      'path "secret/*" { capabilities = ["deny"] }',
      'path "secret/app" { capabilities = ["read"] }',
    ]);
    expect(acl.allows('secret/app', 'read')).toBe(true);
    expect(acl.allows('secret/other', 'read')).toBe(false);
  });

  it('takes the longest glob', async () => {
    const acl = await aclOf([
      'path "sys/*" { capabilities = ["read"] }',
      'path "sys/mounts/*" { capabilities = ["deny"] }',
    ]);
    expect(acl.allows('sys/auth', 'read')).toBe(true);
    expect(acl.allows('sys/mounts/secret', 'read')).toBe(false);
  });

  it('matches + to exactly one segment', async () => {
    const acl = await aclOf([
      'path "sys/mounts/+" { capabilities = ["read"] }',
    ]);
    expect(acl.allows('sys/mounts/secret', 'read')).toBe(true);
    expect(acl.allows('sys/mounts/team/secrets', 'read')).toBe(false);
    expect(acl.allows('sys/mounts', 'read')).toBe(false);
  });

  it('ranks rules as Vault does when several match', async () => {
    // A later first wildcard wins: `secret/a*` over `secret/+`.
    const later = await aclOf([
      'path "secret/+" { capabilities = ["deny"] }',
      'path "secret/a*" { capabilities = ["read"] }',
    ]);
    expect(later.allows('secret/app', 'read')).toBe(true);
    // At the same position, no trailing glob wins: `secret/+/x` over
    // `secret/*`.
    const noGlob = await aclOf([
      'path "secret/*" { capabilities = ["read"] }',
      'path "secret/+/x" { capabilities = ["deny"] }',
    ]);
    expect(noGlob.allows('secret/a/x', 'read')).toBe(false);
    expect(noGlob.allows('secret/a/y', 'read')).toBe(true);
    // Then fewer + segments: `a/+/c/+` loses to `a/b/c/+`.
    const fewer = await aclOf([
      'path "a/+/c/+" { capabilities = ["deny"] }',
      'path "a/+/c/d" { capabilities = ["read"] }',
    ]);
    expect(fewer.allows('a/b/c/d', 'read')).toBe(true);
  });

  it('grants only the capabilities written', async () => {
    const acl = await aclOf([
      'path "sys/plugins/reload/backend" { capabilities = ["update"] }',
    ]);
    expect(acl.allows('sys/plugins/reload/backend', 'update')).toBe(true);
    expect(acl.allows('sys/plugins/reload/backend', 'read')).toBe(false);
    expect(acl.allows('sys/plugins/reload/backend/status', 'read')).toBe(false);
    expect(acl.allows('sys/mounts', 'read')).toBe(false);
  });

  it('asks for sudo on top where a path needs it', async () => {
    const acl = await aclOf([
      'path "sys/plugins/reload/+/+" { capabilities = ["update"] }',
      'path "sys/plugins/reload/secret/+" { capabilities = ["update", "sudo"] }',
    ]);
    const options = { sudo: true };
    expect(acl.allows('sys/plugins/reload/auth/x', 'update', options)).toBe(
      false,
    );
    expect(acl.allows('sys/plugins/reload/secret/x', 'update', options)).toBe(
      true,
    );
  });

  it('lets a glob ending in a slash govern listing the folder', async () => {
    const acl = await aclOf([
      'path "sys/policies/acl/*" { capabilities = ["list"] }',
    ]);
    expect(acl.allows('sys/policies/acl', 'list')).toBe(true);
    expect(acl.allows('sys/policies/acl', 'read')).toBe(false);
  });

  it("puts a policy's paths inside its namespace", async () => {
    const acl = await aclOf(
      ['path "sys/plugins/reload/backend" { capabilities = ["update"] }'],
      'team-b/',
    );
    expect(acl.allows('team-b/sys/plugins/reload/backend', 'update')).toBe(
      true,
    );
    expect(acl.allows('sys/plugins/reload/backend', 'update')).toBe(false);
    expect(acl.allows('team-b/apps/sys/plugins/reload/backend', 'update')).toBe(
      false,
    );
  });

  it('lets the root policy do anything and an empty set of rules nothing', () => {
    expect(Acl.root().allows('sys/anything', 'delete', { sudo: true })).toBe(
      true,
    );
    expect(Acl.fromPolicies([]).allows('sys/mounts', 'read')).toBe(false);
  });
});

describe('what a request asks for', () => {
  it.each([
    ['GET', {}, undefined, 'read'],
    ['GET', { list: 'true' }, undefined, 'list'],
    ['LIST', {}, undefined, 'list'],
    ['PUT', {}, undefined, 'update'],
    ['POST', {}, false, 'create'],
    ['POST', {}, true, 'update'],
    ['DELETE', {}, undefined, 'delete'],
    ['OPTIONS', {}, undefined, undefined],
  ] as const)(
    'reads %s %o (exists: %s) as %s',
    (method, query, exists, operation) => {
      expect(operationOf(method, query, exists)).toBe(operation);
    },
  );

  it("knows Vault's root-protected paths", () => {
    expect(isRootPath('sys/auth/oidc')).toBe(true);
    expect(isRootPath('sys/auth')).toBe(false);
    expect(isRootPath('sys/plugins/catalog/secret/mock-plugin')).toBe(true);
    expect(isRootPath('sys/plugins/catalog')).toBe(false);
    expect(isRootPath('sys/mounts/secret')).toBe(false);
  });
});
