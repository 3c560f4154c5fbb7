import {
  AssetHashType,
  DockerImage,
  Duration,
  type RemovalPolicy,
  Validations,
} from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SERVICE_NAME } from '../../functions/api/metric-names.js';
import { buildApiBundle, PROJECT_ROOT } from './api-bundle.js';
import {
  catalogAccessStatement,
  catalogKeyStatements,
} from './catalog-table.js';

/**
 * The handler's code, bundled on this machine by the esbuild in
 * `node_modules` (no Docker). The asset is named by a hash of what esbuild
 * wrote, so an unchanged build deploys nothing new.
 */
const apiCode = () =>
  Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only used if local bundling declined, which it never does: it
      // bundles or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
      local: {
        tryBundle: (outputDir) => {
          buildApiBundle(outputDir);
          return true;
        },
      },
    },
  });

/**
 * Memory, chosen from `bench/handler.ts` (figures in the README). The heap
 * stays under 100 MB, so memory is not the limit; CPU is, and Lambda gives
 * CPU in proportion to memory, one whole vCPU at 1,769 MB. A small request
 * costs about the same GB-seconds at any size (what is CPU-bound finishes
 * faster), while a reload by plugin spends about 0.2 ms of CPU per mount:
 * 50,000 mounts take some 10 s of CPU on a whole vCPU, but 35 s on the
 * share 512 MB gets, past API Gateway's 30 seconds. Node runs the handler
 * on one thread, so more memory than this would buy nothing.
 */
export const API_FUNCTION_MEMORY_MB = 1769;

/**
 * API Gateway gives up on an integration after 30 seconds; stopping the
 * function a second earlier keeps it from working on for a client that has
 * already been told the request failed.
 */
export const API_FUNCTION_TIMEOUT = Duration.seconds(29);

/**
 * How long one DynamoDB attempt may take before the SDK tries again. A
 * transaction of 100 writes takes tens of milliseconds on DynamoDB; this
 * only cuts off a connection that has stopped answering, and four attempts
 * of it still end before the function's timeout.
 */
export const DYNAMODB_ATTEMPT_TIMEOUT_MS = 5_000;

export interface ApiFunctionProps {
  /** The catalog table the handler reads and writes. */
  readonly table: ITableV2;
  /** The key tokens are hashed with, read at cold start. */
  readonly tokenHmacKey: ISecret;
  /** The root token stored at the first cold start that sees it. */
  readonly rootToken: ISecret;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** What becomes of the log group when the stack is deleted. */
  readonly logRemovalPolicy?: RemovalPolicy;
  /** Concurrency kept for this function alone; none by default. */
  readonly reservedConcurrency?: number;
  /** Where the handler's own metrics go in CloudWatch. */
  readonly metricsNamespace: string;
}

/**
 * Creates the Lambda function that answers every `/v1/` request, bundled
 * from `functions/api/handler.ts` (see `api-bundle.ts`), with its own log
 * group and a role that reaches nothing but that
 * log group, the catalog table, the two secrets and X-Ray.
 *
 * @example
 * const handler = createApiFunction(stack, 'ApiFunction', {
 *   table,
 *   tokenHmacKey,
 *   rootToken,
 *   metricsNamespace: 'PluginReload',
 * });
 * new HttpLambdaIntegration('Api', handler);
 */
export const createApiFunction = (
  scope: Construct,
  id: string,
  props: ApiFunctionProps,
): LambdaFunction => {
  const logGroup = new LogGroup(scope, `${id}Logs`, {
    retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    removalPolicy: props.logRemovalPolicy,
  });

  // The stack creates the log group itself, so the function needs no right
  // to create log groups anywhere, which the default Lambda role would give.
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: 'Runs the plugin reload API handler',
  });
  logGroup.grants.write(role);
  role.addToPolicy(catalogAccessStatement(props.table));
  for (const statement of catalogKeyStatements(props.table)) {
    role.addToPolicy(statement);
  }
  props.tokenHmacKey.grantRead(role);
  props.rootToken.grantRead(role);

  // Tracing adds the X-Ray statement, the only one on "*".
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'The only statement on "*" allows xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray does not scope to resources; every table, secret and log permission names its resource.',
  });

  const handler = new LambdaFunction(scope, id, {
    code: apiCode(),
    handler: 'index.handler',
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: API_FUNCTION_MEMORY_MB,
    timeout: API_FUNCTION_TIMEOUT,
    reservedConcurrentExecutions: props.reservedConcurrency,
    tracing: Tracing.ACTIVE,
    role,
    logGroup,
    environment: {
      CATALOG_TABLE_NAME: props.table.tableName,
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
      TOKEN_HMAC_KEY_SECRET_ARN: props.tokenHmacKey.secretArn,
      ROOT_TOKEN_SECRET_ARN: props.rootToken.secretArn,
      DYNAMODB_ATTEMPT_TIMEOUT_MS: String(DYNAMODB_ATTEMPT_TIMEOUT_MS),
    },
  });

  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'Pinned to Node.js 22, a long-term support runtime Lambda supports into 2027, which the bundle targets (esbuild target node22); moving to a newer runtime is a deliberate change with its own test run, not an automatic one.',
  });
  return handler;
};
