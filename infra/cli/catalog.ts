/**
 * `npm run catalog -- import FILE`: loads a Vault export into the catalog
 * table. The file is checked as a whole first, so a malformed file is
 * refused with its problems and nothing is written.
 *
 * `npm run catalog -- export [FILE]`: writes the catalog out in the same
 * format, to FILE or to standard output.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createCatalog } from '../../functions/catalog/client.js';
import { exportCatalog } from '../../functions/catalog/export.js';
import { importCatalog } from '../../functions/catalog/import.js';
import { listPinnedVersions } from '../../functions/catalog/pins.js';
import {
  CatalogFileError,
  type CatalogSnapshot,
  formatProblem,
  parseVaultExport,
} from '../../functions/catalog/vault-export.js';
import { readLocalStack } from '../local/stack-file.js';

const USAGE = `Usage: npm run catalog -- import FILE [options]
       npm run catalog -- export [FILE] [options]

import loads a Vault export (the responses of GET /v1/sys/mounts,
/v1/sys/auth and /v1/sys/plugins/catalog under "mounts", "auth" and
"plugins", optionally "namespaces") into the catalog table. Importing the
same file again changes nothing, and a mount keeps its reload generation.

export writes the catalog in the same format, to FILE or to standard output;
importing it into an empty table gives the same catalog.

Options:
  --table NAME     catalog table (default: $CATALOG_TABLE_NAME)
  --endpoint URL   DynamoDB endpoint (default: the AWS SDK's own,
                   including $AWS_ENDPOINT_URL_DYNAMODB)
  --region NAME    AWS region (default: the AWS SDK's own)
  -h, --help       show this help

With no table and no endpoint given, a local stack started by \`npm start\`
in this checkout is found through .local/stack.json.`;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const isLoopback = (endpoint: string) => {
  try {
    return LOOPBACK_HOSTS.has(new URL(endpoint).hostname);
  } catch {
    return false;
  }
};

/** A wrong invocation: printed with the usage, without a stack trace. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Something missing around the command: printed as it is. */
class SetupError extends Error {
  override readonly name = 'SetupError';
}

/**
 * Which table: flags first, then the SDK's settings, then the local stack
 * that `npm start` runs in this checkout.
 */
const resolveTarget = (flags: {
  table?: string;
  endpoint?: string;
  region?: string;
}) => {
  const table = flags.table ?? process.env.CATALOG_TABLE_NAME;
  const endpoint = flags.endpoint ?? process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const local = !table && !endpoint ? readLocalStack() : undefined;
  const target = {
    tableName: table ?? local?.tableName,
    // Left undefined, the SDK finds the endpoint itself.
    endpoint: flags.endpoint ?? local?.endpoint,
    region: flags.region ?? local?.region,
    source: local ? `the local stack at ${local.endpoint}` : undefined,
  };
  if (!target.tableName) {
    throw new SetupError(
      'no catalog table: pass --table, set CATALOG_TABLE_NAME, or start ' +
        'the local stack with `npm start`',
    );
  }

  // DynamoDB Local takes any credentials and any region, but the SDK still
  // wants both; without these it would go looking for real ones, as far as
  // the instance metadata service.
  const reached = target.endpoint ?? endpoint;
  if (reached && isLoopback(reached)) {
    if (!process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE) {
      process.env.AWS_ACCESS_KEY_ID = 'local';
      process.env.AWS_SECRET_ACCESS_KEY = 'local';
    }
    if (!process.env.AWS_REGION && !process.env.AWS_DEFAULT_REGION) {
      target.region ??= 'us-east-1';
    }
  }
  return { ...target, tableName: target.tableName };
};

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const runImport = async (file: string, flags: Record<string, string>) => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SetupError(`cannot read ${file}: ${(error as Error).message}`);
  }
  // Checked before any connection is made: a bad file never gets that far.
  let snapshot: CatalogSnapshot;
  try {
    snapshot = parseVaultExport(text);
  } catch (error) {
    if (!(error instanceof CatalogFileError)) throw error;
    for (const problem of error.problems) {
      console.error(`${file}: ${formatProblem(problem)}`);
    }
    const unlisted = error.total - error.problems.length;
    if (unlisted > 0) console.error(`${file}: and ${unlisted} more problems`);
    console.error(`${file}: refused, nothing was imported`);
    process.exitCode = 1;
    return;
  }
  const target = resolveTarget(flags);
  const catalog = createCatalog(target);
  const result = await importCatalog(catalog, snapshot);
  const where = target.source
    ? `${target.tableName} on ${target.source}`
    : target.tableName;
  const counts = [
    count(result.mounts, 'mount'),
    count(result.plugins, 'plugin'),
    count(result.namespaces, 'namespace'),
    `${count(result.changed, 'item')} changed`,
  ];
  console.log(`imported ${file} into ${where}: ${counts.join(', ')}`);
};

const runExport = async (
  file: string | undefined,
  flags: Record<string, string>,
) => {
  const target = resolveTarget(flags);
  const catalog = createCatalog(target);
  const [exported, pins] = await Promise.all([
    exportCatalog(catalog),
    listPinnedVersions(catalog),
  ]);
  const text = `${JSON.stringify(exported, null, 2)}\n`;
  if (file) writeFileSync(file, text);
  else process.stdout.write(text);
  // Messages go to standard error, so that standard output is the file.
  const mounts =
    Object.keys(exported.mounts).length +
    Object.keys(exported.auth).length +
    Object.values(exported.namespaces ?? {}).reduce(
      (sum, tables) =>
        sum +
        Object.keys(tables.mounts).length +
        Object.keys(tables.auth).length,
      0,
    );
  const where = target.source
    ? `${target.tableName} on ${target.source}`
    : target.tableName;
  console.error(
    `exported ${where}${file ? ` to ${file}` : ''}: ` +
      `${count(mounts, 'mount')}, ` +
      `${count(exported.plugins.detailed.length, 'plugin')}, ` +
      count(Object.keys(exported.namespaces ?? {}).length, 'namespace'),
  );
  if (pins.length > 0) {
    // A Vault export has no place for pins; they are named so they can be
    // set again with PUT sys/plugins/pins/:type/:name.
    console.error(
      'not exported (the file format has no place for them): ' +
        `${count(pins.length, 'pinned version')}: ` +
        pins.map((pin) => `${pin.type}/${pin.name}=${pin.version}`).join(', '),
    );
  }
};

const main = async (args: string[]) => {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      table: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [command, file, ...rest] = positionals;
  const { help: _help, ...flags } = values;
  if (command === 'export' && rest.length === 0) {
    await runExport(file, flags);
    return;
  }
  if (command !== 'import' || !file || rest.length > 0) {
    throw new UsageError(
      command && command !== 'import' && command !== 'export'
        ? `unknown command "${command}"`
        : 'expected: import FILE, or export [FILE]',
    );
  }
  await runImport(file, flags);
};

try {
  await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || isParseArgsError(error)) {
    console.error(`catalog: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    // Setup problems and DynamoDB failures: the message says it all.
    const message = error instanceof Error ? error.message : String(error);
    console.error(`catalog: ${message}`);
    process.exitCode = 1;
  }
}

/** parseArgs refuses unknown or incomplete options with these codes. */
function isParseArgsError(error: unknown) {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
