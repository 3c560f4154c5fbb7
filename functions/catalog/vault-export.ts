import {
  findNodeAtLocation,
  getLocation,
  getNodePath,
  type JSONPath,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser';
import * as z from 'zod';
import type { MountEntry, PluginItem } from './items.js';
import type { MountKind, MountRef } from './keys.js';

/**
 * Reads a Vault export: one JSON file holding the responses of
 * `GET /v1/sys/mounts`, `GET /v1/sys/auth` and `GET /v1/sys/plugins/catalog`
 * under `mounts`, `auth` and `plugins`, and optionally the mount and auth
 * tables of other namespaces under `namespaces`. Each response may keep
 * Vault's envelope (the map then sits under `data`) or be the bare map.
 *
 * Everything is checked before anything is returned, and every problem found
 * names the line and the JSON path it is at, so that an import refuses a
 * malformed file before it writes a single item.
 */

/** One plugin catalog entry, as it is written to the catalog table. */
export type CatalogPlugin = Omit<PluginItem, 'pk' | 'sk' | 'gsi1pk' | 'gsi1sk'>;

/** One mount entry and where it lives. */
export interface CatalogMount {
  ref: MountRef;
  entry: MountEntry;
}

/** Everything a Vault export says about the catalog, checked. */
export interface CatalogSnapshot {
  /** Namespaces other than the root, as Vault writes them: "team-b/". */
  namespaces: string[];
  mounts: CatalogMount[];
  plugins: CatalogPlugin[];
}

/** One thing wrong with a catalog file. */
export interface CatalogFileProblem {
  /** 1-based line of the file. */
  line: number;
  /** JSON path of what is wrong, such as `mounts.data["secret/"].type`. */
  path: string;
  message: string;
}

/** How many problems a refused file reports; the rest are only counted. */
export const MAX_REPORTED_PROBLEMS = 20;

/**
 * A catalog file that cannot be imported. `problems` lists what is wrong, in
 * the order of the file, at most {@link MAX_REPORTED_PROBLEMS} of them;
 * `total` counts all that were found.
 *
 * @example
 * try {
 *   parseVaultExport(text);
 * } catch (error) {
 *   if (error instanceof CatalogFileError) {
 *     for (const problem of error.problems) console.error(problem.line);
 *   }
 * }
 */
export class CatalogFileError extends Error {
  override readonly name = 'CatalogFileError';
  readonly problems: readonly CatalogFileProblem[];
  readonly total: number;

  constructor(problems: readonly CatalogFileProblem[], total: number) {
    const lines = problems.map(formatProblem);
    if (total > problems.length) {
      lines.push(`(and ${total - problems.length} more problems)`);
    }
    super(lines.join('\n'));
    this.problems = problems;
    this.total = total;
  }
}

/** A problem as one line of text: `line 42: mounts.x: what is wrong`. */
export const formatProblem = (problem: CatalogFileProblem) =>
  `line ${problem.line}: ${problem.path}: ${problem.message}`;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describeValue = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value ? 'a string' : 'an empty string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return String(value);
  return typeof value;
};

// Shapes of the file, as Vault's API writes them.

const NON_EMPTY_STRING = 'expected a non-empty string';

const nonEmptyString = z
  .string({ error: NON_EMPTY_STRING })
  .min(1, { error: NON_EMPTY_STRING });

const jsonObject = z.record(z.string(), z.unknown());

/**
 * A mount entry of `sys/mounts` or `sys/auth`. Only `type` is required; the
 * other fields Vault reports are checked when present, and fields this
 * service does not know are kept as they are.
 */
const mountEntrySchema = z.looseObject({
  type: nonEmptyString,
  accessor: z.string().optional(),
  config: jsonObject.optional(),
  description: z.string().optional(),
  local: z.boolean().optional(),
  seal_wrap: z.boolean().optional(),
  external_entropy_access: z.boolean().optional(),
  options: z
    .record(z.string(), z.unknown(), {
      error: (issue) =>
        `expected an object or null, got ${describeValue(issue.input)}`,
    })
    .nullable()
    .optional(),
  plugin_version: z.string().optional(),
  running_plugin_version: z.string().optional(),
  running_sha256: z.string().optional(),
  uuid: z.string().optional(),
  deprecation_status: z.string().optional(),
});

const PLUGIN_TYPES = ['auth', 'secret', 'database'] as const;

/** One entry of `detailed` in `sys/plugins/catalog`. */
const pluginSchema = z.object({
  name: nonEmptyString,
  type: z.enum(PLUGIN_TYPES),
  // Unversioned plugins have the version "".
  version: z.string(),
  builtin: z.boolean(),
  sha256: z.string().optional(),
  deprecation_status: z.string().optional(),
  command: z.string().optional(),
  args: z.array(z.string()).optional(),
  env: z.array(z.string()).optional(),
});

/**
 * `sys/plugins/catalog`: name lists per type, and with Vault 1.12 and later
 * the `detailed` list with versions.
 */
const pluginCatalogSchema = z.looseObject({
  detailed: z.array(pluginSchema).optional(),
  auth: z.array(nonEmptyString).optional(),
  secret: z.array(nonEmptyString).optional(),
  database: z.array(nonEmptyString).optional(),
});

const namespaceSchema = z.strictObject({
  mounts: jsonObject.optional(),
  auth: jsonObject.optional(),
});

const TOP_LEVEL_FIELDS = ['mounts', 'auth', 'plugins', 'namespaces'];
const REQUIRED_SECTIONS = ['mounts', 'auth', 'plugins'];

/** The two mount tables of a namespace and the file sections that hold them. */
const MOUNT_TABLES: ReadonlyArray<{ section: string; kind: MountKind }> = [
  { section: 'mounts', kind: 'secret' },
  { section: 'auth', kind: 'auth' },
];

// Limits of what DynamoDB stores, checked here so that a file that passes
// never fails half-way through an import.

/** The SDK refuses numbers it cannot convert exactly. */
const LARGEST_NUMBER = Number.MAX_SAFE_INTEGER;
/** DynamoDB's smallest non-zero magnitude. */
const SMALLEST_NUMBER = 1e-130;
/** DynamoDB nests at most 32 levels; the item and `entry` take two. */
const DEEPEST_ENTRY = 30;
/** An item is at most 400 KB; the rest of a mount item is small. */
const LARGEST_ENTRY_BYTES = 300_000;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
  null: 'null',
};

/** Plain words for zod's issues, naming what was found instead. */
const issueMessage: z.core.$ZodErrorMap = (issue) => {
  if (issue.code === 'invalid_type') {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    if (issue.input === undefined) return `is required (${expected})`;
    return `expected ${expected}, got ${describeValue(issue.input)}`;
  }
  if (issue.code === 'invalid_value') {
    const values = issue.values.map((value) => JSON.stringify(value));
    return `expected one of ${values.join(', ')}, got ${JSON.stringify(
      issue.input,
    )}`;
  }
  return undefined;
};

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JSON path as a reader writes it: `mounts.data["custom-secrets/"]`. */
const formatPath = (path: JSONPath): string => {
  if (path.length === 0) return '(top level)';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      if (IDENTIFIER.test(segment))
        return index === 0 ? segment : `.${segment}`;
      return `[${JSON.stringify(segment)}]`;
    })
    .join('');
};

/** Offsets into the text, turned into 1-based lines. */
const lineIndexOf = (text: string) => {
  const starts = [0];
  for (let offset = 0; offset < text.length; offset++) {
    if (text.charCodeAt(offset) === 10) starts.push(offset + 1);
  }
  return (offset: number) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if ((starts[middle] ?? 0) <= offset) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  };
};

const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidSymbol:
    'unexpected character (JSON has no comments, no single quotes)',
  InvalidNumberFormat: 'not a valid JSON number',
  PropertyNameExpected: 'expected a double-quoted property name',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ','",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'control characters must be escaped in JSON strings',
};

/**
 * The JSON path at an offset. Where a property name is expected the parser
 * adds an empty name, which says nothing to a reader.
 */
const locationAt = (text: string, offset: number): JSONPath => {
  const path = getLocation(text, offset).path;
  return path.at(-1) === '' ? path.slice(0, -1) : path;
};

/** The problems found so far, placed on lines of the file. */
class ProblemList {
  readonly #text: string;
  readonly #root: Node | undefined;
  readonly #lineOf: (offset: number) => number;
  readonly found: CatalogFileProblem[] = [];

  constructor(text: string, root: Node | undefined) {
    this.#text = text;
    this.#root = root;
    this.#lineOf = lineIndexOf(text);
  }

  /** A problem with the value at `path`, or where it should have been. */
  at(path: JSONPath, message: string) {
    this.found.push({
      line: this.lineOfPath(path),
      path: formatPath(path),
      message,
    });
  }

  /** A problem at an offset of the text, such as a syntax error. */
  atOffset(offset: number, message: string) {
    this.found.push({
      line: this.#lineOf(offset),
      path: formatPath(locationAt(this.#text, offset)),
      message,
    });
  }

  /** Zod's issues with the value at `base`, one problem each. */
  fromZod(base: JSONPath, error: z.ZodError) {
    for (const issue of error.issues) {
      const path = [...base, ...(issue.path as JSONPath)];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.at([...path, key], 'unknown field');
      } else {
        this.at(path, issue.message);
      }
    }
  }

  /**
   * The line of the property or element at `path`; when it is missing, the
   * line of the nearest enclosing value that exists.
   */
  lineOfPath(path: JSONPath): number {
    if (!this.#root) return 1;
    let node: Node | undefined;
    for (let length = path.length; !node && length >= 0; length--) {
      node = findNodeAtLocation(this.#root, path.slice(0, length));
    }
    if (!node) return 1;
    const start = node.parent?.type === 'property' ? node.parent : node;
    return this.#lineOf(start.offset);
  }

  /** The same key twice in one object: JSON.parse would keep only the last. */
  findDuplicateKeys(node: Node | undefined = this.#root) {
    if (!node?.children) return;
    if (node.type === 'object') {
      const seen = new Map<string, number>();
      for (const property of node.children) {
        const key = property.children?.[0]?.value;
        if (typeof key !== 'string') continue;
        const earlier = seen.get(key);
        if (earlier === undefined) {
          seen.set(key, this.#lineOf(property.offset));
        } else {
          this.found.push({
            line: this.#lineOf(property.offset),
            path: formatPath([...getNodePath(node), key]),
            message:
              `duplicate key: ${JSON.stringify(key)} already appears ` +
              `at line ${earlier}`,
          });
        }
      }
    }
    for (const child of node.children) this.findDuplicateKeys(child);
  }
}

/**
 * A mount path or namespace name as Vault keys it, ending with a slash, or
 * why it cannot be one.
 */
const normalisePath = (
  raw: string,
): { path: string; problem?: undefined } | { problem: string } => {
  if (raw === '' || raw === '/') return { problem: 'may not be empty' };
  if (raw.startsWith('/')) return { problem: "may not start with '/'" };
  // `#` separates the parts of the catalog's keys.
  if (raw.includes('#')) return { problem: "may not contain '#'" };
  // Requests are trimmed before they are looked up, so a name with spaces
  // at either end could never be reached.
  if (raw.trim() !== raw) {
    return { problem: 'may not start or end with whitespace' };
  }
  const path = raw.endsWith('/') ? raw : `${raw}/`;
  const segments = path.slice(0, -1).split('/');
  if (segments.includes('')) return { problem: "may not contain '//'" };
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return { problem: "may not contain a '.' or '..' segment" };
  }
  return { path };
};

/**
 * The map inside a response: with Vault's envelope it is `data` (Vault's
 * `sys/mounts` also repeats the mounts beside `request_id`, which is
 * ignored); without, it is the response itself. A bare mount table could
 * hold a mount named `data`, but that one has a `type` of its own.
 */
const unwrapMountTable = (
  response: Record<string, unknown>,
  path: JSONPath,
): { table: Record<string, unknown>; path: JSONPath } => {
  const data = response.data;
  if (isObject(data) && typeof data.type !== 'string') {
    return { table: data, path: [...path, 'data'] };
  }
  return { table: response, path };
};

const unwrapPluginCatalog = (
  response: Record<string, unknown>,
  path: JSONPath,
): { catalog: Record<string, unknown>; path: JSONPath } =>
  isObject(response.data)
    ? { catalog: response.data, path: [...path, 'data'] }
    : { catalog: response, path };

/**
 * Checks that a mount entry's values fit in a DynamoDB item: numbers the
 * SDK converts exactly, no empty field names, bounded nesting.
 */
const checkStorable = (
  problems: ProblemList,
  value: unknown,
  path: JSONPath,
  depth = 0,
) => {
  if (typeof value === 'number') {
    const magnitude = Math.abs(value);
    if (!(magnitude <= LARGEST_NUMBER)) {
      problems.at(
        path,
        `number is too large to store (at most ${LARGEST_NUMBER})`,
      );
    } else if (magnitude !== 0 && magnitude < SMALLEST_NUMBER) {
      problems.at(path, 'number is too small to store');
    }
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (depth > DEEPEST_ENTRY) {
    problems.at(path, `nested more than ${DEEPEST_ENTRY} levels deep`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      checkStorable(problems, item, [...path, index], depth + 1);
    });
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (key === '') problems.at(path, 'has an empty field name');
    checkStorable(problems, item, [...path, key], depth + 1);
  }
};

/** Reads one mount table (`sys/mounts` or `sys/auth`) of one namespace. */
const readMountTable = (
  problems: ProblemList,
  response: Record<string, unknown>,
  responsePath: JSONPath,
  namespace: string,
  kind: MountKind,
  into: CatalogMount[],
) => {
  const { table, path: tablePath } = unwrapMountTable(response, responsePath);
  // Where each normalised path was first seen, to name it in a duplicate.
  const seen = new Map<string, JSONPath>();
  for (const [key, value] of Object.entries(table)) {
    const path = [...tablePath, key];
    const normalised = normalisePath(key);
    if (normalised.problem !== undefined) {
      problems.at(path, `mount path ${normalised.problem}`);
    } else if (kind === 'secret' && normalised.path.startsWith('auth/')) {
      // A request for `auth/foo` names the auth mount `foo/`, so a secrets
      // mount there could never be reached; Vault reserves the prefix too.
      problems.at(path, "a secrets mount path may not start with 'auth/'");
    } else {
      const earlier = seen.get(normalised.path);
      if (earlier) {
        problems.at(
          path,
          `duplicate mount: ${JSON.stringify(normalised.path)} is already ` +
            `at line ${problems.lineOfPath(earlier)}`,
        );
      }
      seen.set(normalised.path, path);
    }

    checkStorable(problems, value, path);
    const parsed = mountEntrySchema.safeParse(value, { error: issueMessage });
    if (!parsed.success) {
      problems.fromZod(path, parsed.error);
      continue;
    }
    const entry = value as MountEntry;
    // Mounts made before plugins were named by type say which plugin they
    // run only in their config.
    if (entry.type === 'plugin') {
      const pluginName = parsed.data.config?.plugin_name;
      if (typeof pluginName !== 'string' || pluginName === '') {
        problems.at(
          [...path, 'config', 'plugin_name'],
          'a mount of type "plugin" needs the name of the plugin it runs',
        );
      }
    }
    const bytes = Buffer.byteLength(JSON.stringify(entry));
    if (bytes > LARGEST_ENTRY_BYTES) {
      problems.at(
        path,
        `mount entry is ${bytes} bytes, more than the ${LARGEST_ENTRY_BYTES} ` +
          'a catalog item holds',
      );
    }
    if (normalised.problem === undefined) {
      into.push({ ref: { namespace, kind, path: normalised.path }, entry });
    }
  }
};

/** Reads `sys/plugins/catalog`. */
const readPluginCatalog = (
  problems: ProblemList,
  response: Record<string, unknown>,
  responsePath: JSONPath,
): CatalogPlugin[] => {
  const { catalog, path } = unwrapPluginCatalog(response, responsePath);
  const parsed = pluginCatalogSchema.safeParse(catalog, {
    error: issueMessage,
  });
  if (!parsed.success) {
    problems.fromZod(path, parsed.error);
    return [];
  }

  // Without `detailed` (Vault before 1.12) the name lists are all there is:
  // every plugin is unversioned and, for all the export says, external.
  const listed: Array<{ plugin: CatalogPlugin; path: JSONPath }> = [];
  if (parsed.data.detailed) {
    parsed.data.detailed.forEach((plugin, index) => {
      listed.push({ plugin, path: [...path, 'detailed', index] });
    });
  } else {
    for (const type of PLUGIN_TYPES) {
      parsed.data[type]?.forEach((name, index) => {
        listed.push({
          plugin: { name, type, version: '', builtin: false },
          path: [...path, type, index],
        });
      });
    }
  }

  const plugins: CatalogPlugin[] = [];
  const seen = new Map<string, JSONPath>();
  for (const { plugin, path: pluginPath } of listed) {
    // `#` separates the parts of the catalog's keys.
    if (plugin.name.includes('#') || plugin.version.includes('#')) {
      problems.at(pluginPath, "plugin name and version may not contain '#'");
      continue;
    }
    const identity = JSON.stringify([plugin.name, plugin.type, plugin.version]);
    const earlier = seen.get(identity);
    if (earlier) {
      const version = plugin.version || 'unversioned';
      problems.at(
        pluginPath,
        `duplicate plugin: ${plugin.type} plugin ${JSON.stringify(
          plugin.name,
        )} (${version}) is already at line ${problems.lineOfPath(earlier)}`,
      );
      continue;
    }
    seen.set(identity, pluginPath);
    plugins.push(plugin);
  }
  return plugins;
};

/** Reads the mount tables of the namespaces other than the root. */
const readNamespaces = (
  problems: ProblemList,
  section: Record<string, unknown>,
  into: CatalogMount[],
): string[] => {
  const namespaces = new Set<string>();
  const seen = new Map<string, JSONPath>();
  for (const [key, value] of Object.entries(section)) {
    const path: JSONPath = ['namespaces', key];
    const normalised = normalisePath(key);
    if (normalised.problem !== undefined) {
      problems.at(path, `namespace name ${normalised.problem}`);
      continue;
    }
    // Requests name the root namespace "root" as well as "".
    if (normalised.path === 'root/') {
      problems.at(
        path,
        'the root namespace is the top level of the file, not a namespace',
      );
      continue;
    }
    const earlier = seen.get(normalised.path);
    if (earlier) {
      problems.at(
        path,
        `duplicate namespace: ${JSON.stringify(normalised.path)} is already ` +
          `at line ${problems.lineOfPath(earlier)}`,
      );
      continue;
    }
    seen.set(normalised.path, path);
    const parsed = namespaceSchema.safeParse(value, { error: issueMessage });
    if (!parsed.success) {
      problems.fromZod(path, parsed.error);
      continue;
    }

    // A namespace cannot exist in Vault without its parents, so
    // "team-b/apps/" brings "team-b/" with it.
    const segments = normalised.path.slice(0, -1).split('/');
    for (let length = 1; length <= segments.length; length++) {
      namespaces.add(`${segments.slice(0, length).join('/')}/`);
    }
    for (const { section: name, kind } of MOUNT_TABLES) {
      const table = parsed.data[name as 'mounts' | 'auth'];
      if (table) {
        readMountTable(
          problems,
          table,
          [...path, name],
          normalised.path,
          kind,
          into,
        );
      }
    }
  }
  return [...namespaces].sort();
};

/**
 * Reads and checks a Vault export. The file must be strict JSON (no
 * comments, no trailing commas, no key twice in one object).
 *
 * @throws {CatalogFileError} naming the line and JSON path of every problem.
 * @example
 * const text = readFileSync('vault-export.json', 'utf8');
 * const { mounts } = parseVaultExport(text);
 * mounts[0].ref; // { namespace: '', kind: 'secret', path: 'cubbyhole/' }
 */
export const parseVaultExport = (text: string): CatalogSnapshot => {
  // Editors on some systems start a UTF-8 file with a byte order mark.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;

  // Syntax first: after the first syntax error the parser's later complaints
  // are mostly echoes of it, so only the first is reported.
  const syntaxErrors: ParseError[] = [];
  const root = parseTree(source, syntaxErrors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  const problems = new ProblemList(source, root);
  const [syntaxError] = syntaxErrors;
  if (syntaxError) {
    problems.atOffset(syntaxError.offset, syntaxMessage(source, syntaxError));
    throw failure(problems);
  }
  let document: unknown;
  try {
    document = JSON.parse(source);
  } catch (error) {
    // The parser above is stricter than JSON.parse; this is a safety net.
    problems.at([], `not valid JSON: ${(error as Error).message}`);
    throw failure(problems);
  }
  problems.findDuplicateKeys();

  if (!isObject(document)) {
    problems.at([], `expected an object, got ${describeValue(document)}`);
    throw failure(problems);
  }
  for (const key of Object.keys(document)) {
    if (!TOP_LEVEL_FIELDS.includes(key)) {
      problems.at(
        [key],
        'unknown field (the known ones: mounts, auth, plugins, namespaces)',
      );
    }
  }
  for (const key of [...REQUIRED_SECTIONS, 'namespaces']) {
    const value = document[key];
    if (value === undefined && REQUIRED_SECTIONS.includes(key)) {
      problems.at(
        [key],
        `is required (the response of GET /v1/sys/${key === 'plugins' ? 'plugins/catalog' : key})`,
      );
    } else if (value !== undefined && !isObject(value)) {
      problems.at([key], `expected an object, got ${describeValue(value)}`);
    }
  }

  const mounts: CatalogMount[] = [];
  for (const { section, kind } of MOUNT_TABLES) {
    const response = document[section];
    if (isObject(response)) {
      readMountTable(problems, response, [section], '', kind, mounts);
    }
  }
  const plugins = isObject(document.plugins)
    ? readPluginCatalog(problems, document.plugins, ['plugins'])
    : [];
  const namespaces = isObject(document.namespaces)
    ? readNamespaces(problems, document.namespaces, mounts)
    : [];

  if (problems.found.length > 0) throw failure(problems);
  return { namespaces, mounts, plugins };
};

const syntaxMessage = (text: string, error: ParseError): string => {
  const code = printParseErrorCode(error.error);
  // A trailing comma shows up as a missing name or value before a closer.
  if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
    const before = text.slice(0, error.offset).trimEnd();
    const after = text.slice(error.offset).trimStart();
    if (before.endsWith(',') && /^[}\]]/.test(after)) {
      return 'trailing commas are not allowed in JSON';
    }
  }
  const message = SYNTAX_MESSAGES[code] ?? 'not valid JSON';
  if (text.slice(error.offset).trim() === '') {
    return `unexpected end of the file (${message})`;
  }
  return message;
};

const failure = (problems: ProblemList) => {
  const sorted = problems.found
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => a.problem.line - b.problem.line || a.index - b.index)
    .map(({ problem }) => problem);
  return new CatalogFileError(
    sorted.slice(0, MAX_REPORTED_PROBLEMS),
    sorted.length,
  );
};
