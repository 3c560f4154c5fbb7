import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import {
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { catalogAccessStatement } from './catalog-table.js';

const fromRoot = (path: string) =>
  fileURLToPath(new URL(`../../${path}`, import.meta.url));

/**
 * esbuild turns the handler into an ES module, but some dependencies still
 * call `require` for Node's own modules; ES modules have no `require`, so
 * the bundle makes one before any of its code runs.
 */
const REQUIRE_SHIM = [
  "import { createRequire as createRequireForBundle } from 'node:module';",
  'const require = createRequireForBundle(import.meta.url);',
].join(' ');

export interface ApiFunctionProps {
  /** The catalog table the handler reads and writes. */
  readonly table: ITableV2;
}

/**
 * Creates the Lambda function that answers every `/v1/` request, bundled
 * from `functions/api/handler.ts` by the esbuild in `node_modules` (no
 * Docker), with its own log group and a role that reaches nothing but that
 * log group and the catalog table.
 *
 * @example
 * const handler = createApiFunction(stack, 'ApiFunction', { table });
 * new HttpLambdaIntegration('Api', handler);
 */
export const createApiFunction = (
  scope: Construct,
  id: string,
  props: ApiFunctionProps,
): NodejsFunction => {
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: RetentionDays.ONE_MONTH,
  });

  // The stack creates the log group itself, so the function needs no right
  // to create log groups anywhere, which the default Lambda role would give.
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: 'Runs the plugin reload API handler',
  });
  logGroup.grants.write(role);
  role.addToPolicy(catalogAccessStatement(props.table));

  return new NodejsFunction(scope, id, {
    entry: fromRoot('functions/api/handler.ts'),
    handler: 'handler',
    projectRoot: fromRoot('.'),
    depsLockFilePath: fromRoot('package-lock.json'),
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: 512,
    // API Gateway gives up on an integration after 30 seconds; stopping the
    // function a second earlier keeps it from working on for a client that
    // has already been told the request failed.
    timeout: Duration.seconds(29),
    role,
    logGroup,
    environment: {
      CATALOG_TABLE_NAME: props.table.tableName,
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'plugin-reload',
    },
    bundling: {
      forceDockerBundling: false,
      format: OutputFormat.ESM,
      target: 'node22',
      // Prefer each package's ES module build, which esbuild can trim.
      mainFields: ['module', 'main'],
      banner: REQUIRE_SHIM,
      minify: true,
      sourceMap: true,
      sourceMapMode: SourceMapMode.DEFAULT,
      sourcesContent: false,
      // The deployed function runs the AWS SDK version the tests ran with,
      // not whichever version the Lambda runtime ships that month.
      bundleAwsSDK: true,
    },
  });
};
