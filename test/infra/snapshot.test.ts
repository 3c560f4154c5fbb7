import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SYNTH_TIMEOUT_MS = 180_000;

let outdir: string;
let synthOutput: string;

/**
 * Runs the CDK app the way `npx cdk synth -c stage=prod` does: the CLI
 * hands it the context of `cdk.json` and of `-c` in `CDK_CONTEXT_JSON` and
 * reads the cloud assembly it writes to `CDK_OUTDIR`. No AWS account, no
 * network.
 */
beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'plugin-reload-synth-'));
  const { context } = JSON.parse(
    readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'),
  );
  const { CDK_DEFAULT_REGION: _region, ...environment } = process.env;
  const { stderr } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'infra/app.ts')],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...environment,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify({ ...context, stage: 'prod' }),
      },
    },
  );
  synthOutput = stderr;
}, SYNTH_TIMEOUT_MS);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/**
 * The template with what changes on every code change taken out: the
 * handler's asset is named by a hash of the bundle.
 */
const normalised = (template: string) =>
  template.replace(/[0-9a-f]{64}(\.zip)?/g, '[asset hash]$1');

describe('the synthesized prod template', () => {
  it('matches the reviewed snapshot', async () => {
    const template = readFileSync(
      join(outdir, 'PluginReload-prod.template.json'),
      'utf8',
    );
    await expect(normalised(template)).toMatchFileSnapshot(
      // Not .json: the formatter would rewrite it, and it must stay as CDK
      // writes it.
      '__snapshots__/PluginReload-prod.template.snap',
    );
  });

  it('was written with no validation finding', () => {
    const report = JSON.parse(
      readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
    );
    for (const plugin of report.pluginReports) {
      expect(plugin.violations, plugin.pluginName).toEqual([]);
    }
  });

  it('printed how much code a cold start loads', () => {
    expect(synthOutput).toMatch(
      /API handler bundle: a cold start loads [\d.]+ KiB in \d+ files \(limit 1024\.0 KiB\)/,
    );
  });
});
