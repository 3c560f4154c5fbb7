import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct, Node } from 'constructs';
import type { PluginReloadStackProps } from './service-stack.js';

/** A setting given with `-c NAME=VALUE` that cannot be used. */
export class ContextError extends Error {
  override name = 'ContextError';
}

/** Stage names become parts of stack, table and secret names. */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

export const DEFAULT_STAGE = 'dev';

/**
 * The settings `npx cdk deploy -c NAME=VALUE` takes, all optional. Values
 * from the command line are strings; the same names in `cdk.json` may be
 * numbers or booleans.
 */
export const CONTEXT_SETTINGS = {
  stage: 'name of the deployment, in every resource name (default: dev)',
  region: 'the region, where the stack must name one (a customer managed key)',
  removalPolicy: '"retain" (default) or "destroy": table, key, secrets, logs',
  customerManagedKey: '"true": encrypt table and secrets with a new KMS key',
  existingTableName: 'use this catalog table instead of creating one',
  existingTableKeyArn: 'the KMS key of that table, if it has its own',
  reservedConcurrency: 'concurrency kept for the handler',
  alarmTopicArn: 'an SNS topic that alarms notify',
  throttleRate: 'requests a second the API lets through (default: 50)',
  throttleBurst: 'the burst above that rate (default: 100)',
  logRetentionDays: 'days to keep logs, as CloudWatch allows (default: 30)',
  domainName: 'a custom domain for the API; needs certificateArn',
  certificateArn: 'the ACM certificate of domainName, in the same region',
  hostedZoneId: 'a Route 53 zone in which to make the alias record',
  hostedZoneName: 'the name of that zone',
} as const;

type SettingName = keyof typeof CONTEXT_SETTINGS;

const read = (node: Node, name: SettingName): string | undefined => {
  const value = node.tryGetContext(name);
  return value === undefined || value === null || value === ''
    ? undefined
    : String(value);
};

const positiveInteger = (node: Node, name: SettingName) => {
  const written = read(node, name);
  if (written === undefined) return undefined;
  const value = Number(written);
  if (!Number.isInteger(value) || value < 1) {
    throw new ContextError(`-c ${name} must be a positive whole number`);
  }
  return value;
};

const retention = (node: Node): RetentionDays | undefined => {
  const days = positiveInteger(node, 'logRetentionDays');
  if (days === undefined) return undefined;
  if (!(Object.values(RetentionDays) as number[]).includes(days)) {
    throw new ContextError(
      '-c logRetentionDays must be a period CloudWatch offers: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...',
    );
  }
  return days as RetentionDays;
};

/**
 * The stack's properties from the app's context. Every physical name
 * carries the stage, so `dev` and `prod` can live in one account.
 *
 * @example
 * const app = new App();
 * const { stage, ...props } = stackPropsFromContext(app);
 * new PluginReloadStack(app, `PluginReload-${stage}`, props);
 */
export const stackPropsFromContext = (
  scope: Construct,
): PluginReloadStackProps & { stage: string } => {
  const node = scope.node;
  const stage = read(node, 'stage') ?? DEFAULT_STAGE;
  if (!STAGE_NAME.test(stage)) {
    throw new ContextError(
      '-c stage must be lower-case letters, digits and dashes, starting with a letter, at most 20',
    );
  }
  const removal = read(node, 'removalPolicy') ?? 'retain';
  if (removal !== 'retain' && removal !== 'destroy') {
    throw new ContextError('-c removalPolicy must be "retain" or "destroy"');
  }
  const rateLimit = positiveInteger(node, 'throttleRate');
  const burstLimit = positiveInteger(node, 'throttleBurst');
  const domainName = read(node, 'domainName');
  const certificateArn = read(node, 'certificateArn');
  if (Boolean(domainName) !== Boolean(certificateArn)) {
    throw new ContextError('-c domainName and -c certificateArn go together');
  }
  const hostedZoneId = read(node, 'hostedZoneId');
  const hostedZoneName = read(node, 'hostedZoneName');
  if (Boolean(hostedZoneId) !== Boolean(hostedZoneName)) {
    throw new ContextError('-c hostedZoneId and -c hostedZoneName go together');
  }
  if (hostedZoneId && !domainName) {
    throw new ContextError('-c hostedZoneId needs -c domainName');
  }
  const existingTableName = read(node, 'existingTableName');
  const customerManagedKey = read(node, 'customerManagedKey') === 'true';
  // The CLI passes the region of the profile in use; nothing is looked up.
  const region = read(node, 'region') ?? process.env.CDK_DEFAULT_REGION;
  if (customerManagedKey && !region) {
    throw new ContextError(
      '-c customerManagedKey needs a region: set AWS_REGION or -c region',
    );
  }

  return {
    stage,
    stackName: `plugin-reload-${stage}`,
    description: `Vault plugin reload API (${stage}): HTTP API, Lambda, DynamoDB catalog`,
    tags: { service: 'plugin-reload', stage },
    // A table's own key is named per region, so such a stack names one;
    // otherwise it stays region-agnostic and deploys wherever it is sent.
    env: customerManagedKey || read(node, 'region') ? { region } : undefined,
    service: {
      tableName: existingTableName
        ? undefined
        : `plugin-reload-${stage}-catalog`,
      removalPolicy:
        removal === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      customerManagedKey,
      reservedConcurrency: positiveInteger(node, 'reservedConcurrency'),
      logRetention: retention(node),
      throttling:
        rateLimit || burstLimit
          ? { rateLimit: rateLimit ?? 50, burstLimit: burstLimit ?? 100 }
          : undefined,
      secretNamePrefix: `plugin-reload/${stage}`,
      metricsNamespace: `PluginReload/${stage}`,
    },
    imports: {
      existingTable: existingTableName
        ? {
            tableName: existingTableName,
            keyArn: read(node, 'existingTableKeyArn'),
          }
        : undefined,
      alarmTopicArn: read(node, 'alarmTopicArn'),
      customDomain:
        domainName && certificateArn
          ? {
              domainName,
              certificateArn,
              hostedZone:
                hostedZoneId && hostedZoneName
                  ? { hostedZoneId, zoneName: hostedZoneName }
                  : undefined,
            }
          : undefined,
    },
  };
};
