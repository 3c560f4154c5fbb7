import { RemovalPolicy } from 'aws-cdk-lib';
import type {
  DomainName,
  HttpApi,
  HttpStage,
} from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_METRICS_NAMESPACE } from '../../functions/api/metric-names.js';
import { createApiFunction } from './api-function.js';
import { createCatalogTable } from './catalog-table.js';
import {
  type CustomDomain,
  ServiceApi,
  type ThrottlingLimits,
} from './http-api.js';
import { Monitoring } from './monitoring.js';
import { createDeploymentSecrets, type DeploymentSecrets } from './secrets.js';
import { createWorkerPolicy } from './worker-policy.js';

export interface PluginReloadServiceProps {
  /**
   * A physical name for the catalog table the service creates. By default
   * CloudFormation makes one. Not used with `table`.
   */
  readonly tableName?: string;
  /**
   * An existing catalog table to use instead of creating one, such as the
   * table a deleted stack left behind. It must have the catalog's keys and
   * plugin index (see `functions/catalog/table-definition.ts`).
   */
  readonly table?: ITableV2;
  /**
   * What becomes of the table, its key, the secrets and the log groups
   * when the stack is deleted. Keep the default for anything that matters:
   * the table holds every mount's generation and every token.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** @default 50 requests a second, bursts of 100 */
  readonly throttling?: ThrottlingLimits;
  /** A domain name and certificate of one's own for the API. */
  readonly customDomain?: CustomDomain;
  /**
   * Concurrency set aside for the handler, so other functions cannot starve
   * it, and it cannot starve them. None by default: reserving takes from
   * the account's pool, which is small in a new account.
   */
  readonly reservedConcurrency?: number;
  /** Alarms notify this topic when given. */
  readonly alarmTopic?: ITopic;
  /**
   * Encrypt the table and the secrets with a customer managed KMS key:
   * `true` makes one (rotated every year), or pass your own. AWS managed
   * keys by default.
   */
  readonly customerManagedKey?: boolean | IKey;
  /**
   * The prefix of the secrets' names, such as `plugin-reload/prod`. By
   * default CloudFormation names them.
   */
  readonly secretNamePrefix?: string;
  /** @default 'PluginReload' */
  readonly metricsNamespace?: string;
}

/**
 * The plugin reload service on AWS: an HTTP API whose one route sends every
 * `/v1/` request to one Lambda handler, which keeps mounts, the plugin
 * catalog, generations, reload records and tokens in one DynamoDB table.
 * Beside them: the secrets generated at first deploy (the root token and
 * the token HMAC key), the managed policy for plugin workers, alarms and a
 * dashboard.
 *
 * It names no account or region and looks nothing up, so it synthesizes
 * offline.
 *
 * @example
 * const service = new PluginReloadService(stack, 'PluginReload', {
 *   tableName: 'plugin-reload-prod-catalog',
 *   alarmTopic: Topic.fromTopicArn(stack, 'Oncall', oncallTopicArn),
 * });
 * workerRole.addManagedPolicy(service.workerPolicy);
 */
export class PluginReloadService extends Construct {
  readonly table: ITableV2;
  readonly handler: LambdaFunction;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** The API's own domain name, when `customDomain` was given. */
  readonly domainName?: DomainName;
  readonly secrets: DeploymentSecrets;
  /** Attach to the roles plugin workers run as. */
  readonly workerPolicy: ManagedPolicy;
  readonly monitoring: Monitoring;
  /** The customer managed key, when the service uses one. */
  readonly encryptionKey?: IKey;

  constructor(
    scope: Construct,
    id: string,
    props: PluginReloadServiceProps = {},
  ) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const metricsNamespace =
      props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;

    this.encryptionKey =
      props.customerManagedKey === true
        ? new Key(this, 'Key', {
            description: 'Encrypts the plugin reload catalog and its secrets',
            enableKeyRotation: true,
            // The table cannot be read without its key, so the key is kept
            // exactly as long as the table.
            removalPolicy,
          })
        : props.customerManagedKey || undefined;

    this.table =
      props.table ??
      createCatalogTable(this, 'Catalog', {
        tableName: props.tableName,
        removalPolicy,
        encryptionKey: this.encryptionKey,
      });
    this.secrets = createDeploymentSecrets(this, 'Secrets', {
      namePrefix: props.secretNamePrefix,
      removalPolicy,
      encryptionKey: this.encryptionKey,
    });
    this.handler = createApiFunction(this, 'ApiFunction', {
      table: this.table,
      tokenHmacKey: this.secrets.tokenHmacKey,
      rootToken: this.secrets.rootToken,
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
      reservedConcurrency: props.reservedConcurrency,
      metricsNamespace,
    });
    const serviceApi = new ServiceApi(this, 'Api', {
      handler: this.handler,
      throttling: props.throttling,
      customDomain: props.customDomain,
      logRetention: props.logRetention,
      logRemovalPolicy: removalPolicy,
    });
    this.api = serviceApi.api;
    this.stage = serviceApi.stage;
    this.domainName = serviceApi.domainName;
    this.workerPolicy = createWorkerPolicy(this, 'WorkerPolicy', this.table);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      api: this.api,
      handler: this.handler,
      table: this.table,
      metricsNamespace,
      alarmTopic: props.alarmTopic,
    });
  }
}
