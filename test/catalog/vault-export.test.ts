import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mountItemOf } from '../../functions/catalog/items.js';
import type { MountKind } from '../../functions/catalog/keys.js';
import {
  type CatalogFileError,
  type CatalogSnapshot,
  MAX_REPORTED_PROBLEMS,
  parseVaultExport,
} from '../../functions/catalog/vault-export.js';

const FIXTURE = readFileSync(
  new URL('../../../shared/fixtures/vault-export.json', import.meta.url),
  'utf8',
);
const SAMPLE = readFileSync(
  new URL('../../sample-catalog.json', import.meta.url),
  'utf8',
);

type Json = Record<string, unknown>;
const fixture = (): Json => JSON.parse(FIXTURE);

const findMount = (
  snapshot: CatalogSnapshot,
  namespace: string,
  kind: MountKind,
  path: string,
) =>
  snapshot.mounts.find(
    ({ ref }) =>
      ref.namespace === namespace && ref.kind === kind && ref.path === path,
  );

const mountPaths = (snapshot: CatalogSnapshot) =>
  snapshot.mounts.map(({ ref }) => `${ref.namespace}|${ref.kind}|${ref.path}`);

/** The smallest export there is, with the given sections replaced. */
const exportWith = (sections: Json = {}): Json => ({
  mounts: { 'sys/': { type: 'system' } },
  auth: { 'token/': { type: 'token' } },
  plugins: { detailed: [] },
  ...sections,
});

/** The 1-based line of the first line of `text` that contains `marker`. */
const lineOf = (text: string, marker: string) => {
  const index = text.split('\n').findIndex((line) => line.includes(marker));
  if (index < 0) throw new Error(`${marker} is not in the text`);
  return index + 1;
};

/** The error a refused file throws. */
const refusal = (text: string): CatalogFileError => {
  try {
    parseVaultExport(text);
  } catch (error) {
    return error as CatalogFileError;
  }
  throw new Error('the file was accepted');
};

const pretty = (value: unknown) => JSON.stringify(value, null, 2);

describe('reading the Vault export fixture', () => {
  const snapshot = parseVaultExport(FIXTURE);

  it('finds the root mount custom-secrets/ running mock-plugin', () => {
    const mount = findMount(snapshot, '', 'secret', 'custom-secrets/');
    expect(mount?.entry.type).toBe('mock-plugin');
    expect(mount?.entry.running_plugin_version).toBe('v1.0.0');
    expect(mount?.entry.accessor).toBe('mock-plugin_6f1d3b5a');
  });

  it('finds the auth mount oidc-custom/ in the auth table', () => {
    const mount = findMount(snapshot, '', 'auth', 'oidc-custom/');
    expect(mount?.entry.type).toBe('mock-auth-plugin');
    expect(findMount(snapshot, '', 'secret', 'oidc-custom/')).toBeUndefined();
  });

  it('finds the old-style mount of type plugin running mock-plugin', () => {
    const mount = findMount(snapshot, '', 'secret', 'old-style/');
    expect(mount?.entry.type).toBe('plugin');
    if (!mount) return;
    expect(mountItemOf(mount.ref, mount.entry).pluginName).toBe('mock-plugin');
  });

  it('keeps the mounts of namespace team-b/ apart from the root', () => {
    expect(snapshot.namespaces).toEqual(['team-b/']);
    const mount = findMount(snapshot, 'team-b/', 'secret', 'custom-secrets/');
    expect(mount?.entry.description).toBe('team B copy of the mock plugin');
    expect(findMount(snapshot, 'team-b/', 'auth', 'approle/')).toBeDefined();
  });

  it('reads every mount of every table', () => {
    expect(snapshot.mounts).toHaveLength(18);
    expect(mountPaths(snapshot)).toContain('|secret|team-a/secrets/');
    expect(mountPaths(snapshot)).toContain('|auth|token/');
  });

  it('keeps the mount entry as Vault gave it, unknown fields included', () => {
    const mount = findMount(snapshot, '', 'secret', 'secret/');
    const entries = fixture().mounts as { data: Json };
    expect(mount?.entry).toEqual(entries.data['secret/']);
  });

  it('reads the plugin catalog with both versions of mock-plugin', () => {
    expect(snapshot.plugins).toHaveLength(12);
    const versions = snapshot.plugins
      .filter((plugin) => plugin.name === 'mock-plugin')
      .map((plugin) => plugin.version);
    expect(versions).toEqual(['v1.0.0', 'v1.0.1']);
    expect(snapshot.plugins).toContainEqual({
      name: 'my-db-plugin',
      type: 'database',
      version: 'v0.4.0',
      builtin: false,
      sha256:
        '5d4c3b2a1f0e9d8c7b6a59483726150f5d4c3b2a1f0e9d8c7b6a59483726150f',
    });
    expect(snapshot.plugins).toContainEqual({
      name: 'kv',
      type: 'secret',
      version: 'v0.19.0+builtin',
      builtin: true,
      deprecation_status: 'supported',
    });
  });
});

describe('the project sample catalog', () => {
  const snapshot = parseVaultExport(SAMPLE);

  it('has mock-plugin at two versions, mounted at several root paths', () => {
    const versions = snapshot.plugins
      .filter(({ name, type }) => name === 'mock-plugin' && type === 'secret')
      .map(({ version }) => version);
    expect(versions).toHaveLength(2);
    const running = snapshot.mounts.filter(
      ({ ref, entry }) =>
        ref.namespace === '' &&
        mountItemOf(ref, entry).pluginName === 'mock-plugin',
    );
    expect(running.length).toBeGreaterThanOrEqual(3);
    expect(running.map(({ entry }) => entry.type)).toContain('plugin');
    expect(findMount(snapshot, '', 'secret', 'custom-secrets/')).toBeDefined();
  });

  it('has the singletons, kv, an auth plugin and team-b/', () => {
    for (const path of ['sys/', 'identity/', 'cubbyhole/', 'secret/']) {
      expect(findMount(snapshot, '', 'secret', path)).toBeDefined();
    }
    expect(findMount(snapshot, '', 'auth', 'token/')).toBeDefined();
    expect(findMount(snapshot, '', 'auth', 'oidc-custom/')?.entry.type).toBe(
      'mock-auth-plugin',
    );
    expect(
      findMount(snapshot, 'team-b/', 'secret', 'custom-secrets/')?.entry.type,
    ).toBe('mock-plugin');
    expect(snapshot.plugins.some(({ type }) => type === 'database')).toBe(true);
  });
});

describe('envelopes', () => {
  it('reads each response the same with or without its envelope', () => {
    const enveloped = fixture();
    const bare: Json = {};
    for (const section of ['mounts', 'auth', 'plugins']) {
      bare[section] = (enveloped[section] as { data: Json }).data;
    }
    bare.namespaces = enveloped.namespaces;

    expect(parseVaultExport(pretty(bare))).toEqual(parseVaultExport(FIXTURE));
  });

  it('takes the mounts from data, not the copy Vault puts beside it', () => {
    const text = pretty(
      exportWith({
        mounts: {
          request_id: '0b9e7d1e-2f7a-4c55-9f5e-6b1d2c0a7e31',
          'sys/': { type: 'system' },
          'custom-secrets/': { type: 'mock-plugin' },
          data: {
            'sys/': { type: 'system' },
            'custom-secrets/': { type: 'mock-plugin' },
          },
        },
      }),
    );

    expect(mountPaths(parseVaultExport(text))).toEqual([
      '|secret|sys/',
      '|secret|custom-secrets/',
      '|auth|token/',
    ]);
  });

  it('reads namespace tables with their envelopes', () => {
    const text = pretty(
      exportWith({
        namespaces: {
          'team-b/': {
            mounts: { request_id: 'x', data: { 'kv/': { type: 'kv' } } },
            auth: { data: { 'token/': { type: 'token' } } },
          },
        },
      }),
    );

    expect(mountPaths(parseVaultExport(text))).toContain('team-b/|secret|kv/');
    expect(mountPaths(parseVaultExport(text))).toContain('team-b/|auth|token/');
  });

  it('keeps a bare mount table with a mount named data', () => {
    const text = pretty(
      exportWith({ mounts: { data: { type: 'kv' }, 'sys/': { type: 'x' } } }),
    );

    expect(mountPaths(parseVaultExport(text))).toContain('|secret|data/');
  });
});

describe('normalising names', () => {
  it('adds the trailing slash to mount paths and namespace names', () => {
    const text = pretty(
      exportWith({
        mounts: { kv: { type: 'kv' } },
        auth: { oidc: { type: 'oidc' } },
        namespaces: { 'team-b': { mounts: { apps: { type: 'kv' } } } },
      }),
    );

    const snapshot = parseVaultExport(text);
    expect(snapshot.namespaces).toEqual(['team-b/']);
    expect(mountPaths(snapshot)).toEqual([
      '|secret|kv/',
      '|auth|oidc/',
      'team-b/|secret|apps/',
    ]);
  });

  it('lists the parents of a nested namespace', () => {
    const text = pretty(
      exportWith({ namespaces: { 'team-b/apps/': { mounts: {} } } }),
    );

    expect(parseVaultExport(text).namespaces).toEqual([
      'team-b/',
      'team-b/apps/',
    ]);
  });

  it('derives unversioned plugins from the name lists without detailed', () => {
    const text = pretty(
      exportWith({
        plugins: { data: { auth: ['oidc'], secret: ['kv'], database: [] } },
      }),
    );

    expect(parseVaultExport(text).plugins).toEqual([
      { name: 'oidc', type: 'auth', version: '', builtin: false },
      { name: 'kv', type: 'secret', version: '', builtin: false },
    ]);
  });
});

describe('a malformed file', () => {
  it('is refused on the line of a type that is not a string', () => {
    const document = fixture();
    const data = (document.mounts as { data: Record<string, Json> }).data;
    (data['custom-secrets/'] as Json).type = 42;
    const text = pretty(document);

    const error = refusal(text);

    expect(error.name).toBe('CatalogFileError');
    expect(error.problems).toEqual([
      {
        line: lineOf(text, '"type": 42'),
        path: 'mounts.data["custom-secrets/"].type',
        message: 'expected a non-empty string',
      },
    ]);
    expect(error.message).toBe(
      `line ${lineOf(text, '"type": 42')}: ` +
        'mounts.data["custom-secrets/"].type: expected a non-empty string',
    );
  });

  it('is refused on the line of a mount entry without a type', () => {
    const document = fixture();
    const namespaces = document.namespaces as Record<string, Json>;
    const teamB = namespaces['team-b/'] as { mounts: Record<string, Json> };
    delete teamB.mounts['custom-secrets/']?.type;
    const text = pretty(document);

    const [problem] = refusal(text).problems;

    // The mount named in the file is the one in team-b/, after the root's.
    const rootLine = lineOf(text, '"custom-secrets/"');
    const teamBLine =
      rootLine +
      lineOf(text.split('\n').slice(rootLine).join('\n'), '"custom-secrets/"');
    expect(problem).toEqual({
      line: teamBLine,
      path: 'namespaces["team-b/"].mounts["custom-secrets/"].type',
      message: 'expected a non-empty string',
    });
  });

  it('is refused with the line of a JSON syntax error', () => {
    const text = FIXTURE.replace(
      '"description": "mock secrets plugin",',
      '"description": "mock secrets plugin"',
    );

    const [problem] = refusal(text).problems;

    expect(problem?.line).toBe(lineOf(text, '"mock secrets plugin"') + 1);
    expect(problem?.message).toBe("expected ','");
  });

  it('is refused when it has a trailing comma', () => {
    const text = '{\n  "mounts": {},\n  "auth": {},\n  "plugins": {},\n}\n';

    expect(refusal(text).problems).toEqual([
      {
        line: 5,
        path: '(top level)',
        message: 'trailing commas are not allowed in JSON',
      },
    ]);
  });

  it('is refused when it has a comment', () => {
    const text = '{\n  "mounts": {},\n  // root only\n  "auth": {}\n}\n';

    expect(refusal(text).problems[0]).toMatchObject({
      line: 3,
      message: 'comments are not allowed in JSON',
    });
  });

  it('is refused when it is empty or not an object', () => {
    expect(refusal('').problems[0]?.message).toMatch(/end of the file/);
    expect(refusal('[]').problems[0]?.message).toBe(
      'expected an object, got an array',
    );
  });

  it('is refused when a mount appears twice after normalising', () => {
    const text = pretty(
      exportWith({
        mounts: { kv: { type: 'kv' }, 'kv/': { type: 'kv' } },
      }),
    );

    expect(refusal(text).problems).toEqual([
      {
        line: lineOf(text, '"kv/"'),
        path: 'mounts["kv/"]',
        message: `duplicate mount: "kv/" is already at line ${lineOf(
          text,
          '"kv"',
        )}`,
      },
    ]);
  });

  it('is refused when a key appears twice in one object', () => {
    const text =
      '{\n  "mounts": {\n    "kv/": { "type": "kv" },\n' +
      '    "kv/": { "type": "kv" }\n  },\n  "auth": {},\n  "plugins": {}\n}\n';

    expect(refusal(text).problems).toEqual([
      {
        line: 4,
        path: 'mounts["kv/"]',
        message: 'duplicate key: "kv/" already appears at line 3',
      },
    ]);
  });

  it('is refused when a plugin version is registered twice', () => {
    const plugin = {
      name: 'mock-plugin',
      type: 'secret',
      version: 'v1.0.0',
      builtin: false,
    };
    const text = pretty(
      exportWith({ plugins: { detailed: [plugin, { ...plugin }] } }),
    );

    const [problem] = refusal(text).problems;

    expect(problem?.path).toBe('plugins.detailed[1]');
    expect(problem?.message).toMatch(/^duplicate plugin: secret plugin/);
  });

  it('is refused when two namespaces are one after normalising', () => {
    const text = pretty(
      exportWith({ namespaces: { 'team-b': {}, 'team-b/': {} } }),
    );

    expect(refusal(text).problems).toEqual([
      {
        line: lineOf(text, '"team-b/"'),
        path: 'namespaces["team-b/"]',
        message: `duplicate namespace: "team-b/" is already at line ${lineOf(
          text,
          '"team-b"',
        )}`,
      },
    ]);
  });

  it('is refused when a mount of type plugin names no plugin', () => {
    const text = pretty(
      exportWith({ mounts: { 'old/': { type: 'plugin', config: {} } } }),
    );

    expect(refusal(text).problems).toEqual([
      {
        line: lineOf(text, '"config"'),
        path: 'mounts["old/"].config.plugin_name',
        message:
          'a mount of type "plugin" needs the name of the plugin it runs',
      },
    ]);
  });

  it('is refused for mount paths and namespaces that cannot be keys', () => {
    const text = pretty(
      exportWith({
        mounts: {
          '': { type: 'kv' },
          'a#b/': { type: 'kv' },
          '/kv/': { type: 'kv' },
          'kv/../sys/': { type: 'kv' },
          'kv//x/': { type: 'kv' },
          ' kv/': { type: 'kv' },
          'auth/kv/': { type: 'kv' },
        },
        namespaces: { '#team/': {}, root: {} },
      }),
    );

    expect(refusal(text).problems.map(({ message }) => message)).toEqual([
      'mount path may not be empty',
      "mount path may not contain '#'",
      "mount path may not start with '/'",
      "mount path may not contain a '.' or '..' segment",
      "mount path may not contain '//'",
      'mount path may not start or end with whitespace',
      "a secrets mount path may not start with 'auth/'",
      "namespace name may not contain '#'",
      'the root namespace is the top level of the file, not a namespace',
    ]);
  });

  it('is refused for fields of the wrong type, naming what it found', () => {
    const text = pretty(
      exportWith({
        mounts: {
          'kv/': { type: 'kv', local: 'yes', options: [], accessor: 7 },
        },
        plugins: {
          detailed: [{ name: 'x', type: 'db', version: '', builtin: true }],
        },
      }),
    );

    expect(refusal(text).problems).toEqual([
      {
        line: lineOf(text, '"local"'),
        path: 'mounts["kv/"].local',
        message: 'expected true or false, got a string',
      },
      {
        line: lineOf(text, '"options"'),
        path: 'mounts["kv/"].options',
        message: 'expected an object or null, got an array',
      },
      {
        line: lineOf(text, '"accessor"'),
        path: 'mounts["kv/"].accessor',
        message: 'expected a string, got a number',
      },
      {
        line: lineOf(text, '"db"'),
        path: 'plugins.detailed[0].type',
        message: 'expected one of "auth", "secret", "database", got "db"',
      },
    ]);
  });

  it('is refused when a required section or field is missing', () => {
    const text = pretty({
      mounts: {},
      plugins: { detailed: [{ name: 'x', type: 'auth' }] },
      namespace: {},
    });

    expect(refusal(text).problems.map(({ path }) => path)).toEqual([
      'auth',
      'plugins.detailed[0].version',
      'plugins.detailed[0].builtin',
      'namespace',
    ]);
  });

  it('is refused when a value cannot be stored in DynamoDB', () => {
    const text = pretty(
      exportWith({
        mounts: { 'kv/': { type: 'kv', config: { max: 1e300, '': 1 } } },
      }),
    );

    expect(refusal(text).problems.map(({ message }) => message)).toEqual([
      'has an empty field name',
      'number is too large to store (at most 9007199254740991)',
    ]);
  });

  it('reports many problems at once, up to a limit', () => {
    const mounts: Json = {};
    for (let index = 0; index < 30; index++) {
      mounts[`m${index}/`] = { type: '' };
    }
    const text = pretty(exportWith({ mounts }));

    const error = refusal(text);

    expect(error.total).toBe(30);
    expect(error.problems).toHaveLength(MAX_REPORTED_PROBLEMS);
    expect(error.problems[0]?.line).toBe(lineOf(text, '"m0/"') + 1);
    expect(error.message).toMatch(/\(and 10 more problems\)$/);
  });
});
