import { statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, buildSync, type Metafile } from 'esbuild';

/** The project's root, where `functions/` and `node_modules/` are. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The file Lambda loads first; the function's handler is `index.handler`. */
export const BUNDLE_ENTRY_FILE = 'index.mjs';

/**
 * The most code a cold start may load before the first request. Lambda
 * reads and compiles all of it while the first caller of each new
 * container waits, so every megabyte is paid in latency.
 */
export const COLD_START_LIMIT_BYTES = 1024 * 1024;

/**
 * esbuild makes the handler an ES module, but some dependencies still call
 * `require` for Node's own modules; ES modules have no `require`, so every
 * file of the bundle makes one before any of its code runs.
 */
const REQUIRE_SHIM = [
  "import { createRequire as createRequireForBundle } from 'node:module';",
  'const require = createRequireForBundle(import.meta.url);',
].join(' ');

/**
 * How the handler is bundled. Code splitting puts what is imported
 * lazily (the HCL policy parser, the AWS SDK's rarely used credential
 * providers) in files of their own, which a cold start does not load.
 * The AWS SDK is bundled too, so the function runs the version the tests
 * ran with, not whichever version the Lambda runtime ships that month.
 */
export const API_BUNDLE_OPTIONS = {
  entryPoints: {
    index: join(PROJECT_ROOT, 'functions/api/handler.ts'),
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Prefer each package's ES module build, which esbuild can trim.
  mainFields: ['module', 'main'],
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: REQUIRE_SHIM },
  minify: true,
  // Errors are told apart and logged by their class names, which plain
  // minification would shorten to a letter or two.
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
} satisfies BuildOptions;

export interface BundleReport {
  /** The files a cold start loads: the entry and what it imports statically. */
  coldStartFiles: string[];
  coldStartBytes: number;
  /** Every JavaScript file of the bundle, lazily loaded ones included. */
  totalBytes: number;
}

/**
 * Follows the static imports from the entry through the bundle's files:
 * what Node loads before the handler module has run.
 */
const coldStartFiles = (metafile: Metafile, entry: string): string[] => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const imported of metafile.outputs[file]?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) {
        visit(imported.path);
      }
    }
  };
  visit(entry);
  return [...seen];
};

/** Sizes in the build's own words. */
export const formatBytes = (bytes: number) =>
  `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * Bundles the API handler into `outdir`, prints what a cold start loads,
 * and fails when that is more than the limit.
 *
 * @example
 * const report = buildApiBundle('/tmp/api-bundle');
 * // /tmp/api-bundle/index.mjs exports the Lambda handler.
 */
export const buildApiBundle = (
  outdir: string,
  options: { quiet?: boolean } = {},
): BundleReport => {
  const { metafile } = buildSync({
    ...API_BUNDLE_OPTIONS,
    outdir,
    absWorkingDir: PROJECT_ROOT,
    metafile: true,
  });
  const outputs = Object.keys(metafile.outputs).filter((file) =>
    file.endsWith('.mjs'),
  );
  const entry = outputs.find(
    (file) => relative(outdir, join(PROJECT_ROOT, file)) === BUNDLE_ENTRY_FILE,
  );
  if (!entry) {
    throw new Error(`esbuild wrote no ${BUNDLE_ENTRY_FILE} in ${outdir}`);
  }
  const sizeOf = (file: string) => statSync(join(PROJECT_ROOT, file)).size;
  const loaded = coldStartFiles(metafile, entry);
  const report: BundleReport = {
    coldStartFiles: loaded.map((file) =>
      relative(outdir, join(PROJECT_ROOT, file)),
    ),
    coldStartBytes: loaded.reduce((sum, file) => sum + sizeOf(file), 0),
    totalBytes: outputs.reduce((sum, file) => sum + sizeOf(file), 0),
  };
  if (!options.quiet) {
    process.stderr.write(
      `API handler bundle: a cold start loads ${formatBytes(report.coldStartBytes)} in ${loaded.length} files (limit ${formatBytes(COLD_START_LIMIT_BYTES)}); ${formatBytes(report.totalBytes)} in all, the rest loaded only when used\n`,
    );
  }
  if (report.coldStartBytes > COLD_START_LIMIT_BYTES) {
    throw new Error(
      `the API handler bundle loads ${formatBytes(report.coldStartBytes)} at cold start, above the limit of ${formatBytes(COLD_START_LIMIT_BYTES)}: import the large dependency lazily, or find a smaller one`,
    );
  }
  return report;
};
