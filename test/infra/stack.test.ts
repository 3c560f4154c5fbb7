import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogTable } from '../../functions/catalog/table-definition.js';
import { BUNDLE_ENTRY_FILE } from '../../infra/stack/api-bundle.js';
import {
  ContextError,
  stackPropsFromContext,
} from '../../infra/stack/app-context.js';
import { PluginReloadService } from '../../infra/stack/plugin-reload-service.js';
import { PluginReloadStack } from '../../infra/stack/service-stack.js';

/** The table actions the handler is allowed, written out independently. */
const ALLOWED_TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];

/** Bundling the handler with esbuild takes a while on a busy machine. */
const SYNTH_TIMEOUT_MS = 120_000;

interface PolicyStatementJson {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

interface PolicyJson {
  Properties: {
    PolicyDocument: { Statement: PolicyStatementJson[] };
    Roles: { Ref: string }[];
  };
}

/** The app's feature flags, so the test synthesizes what `cdk synth` does. */
const cdkContext = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
    .context;

const onlyKey = (resources: Record<string, unknown>): string => {
  const keys = Object.keys(resources);
  expect(keys).toHaveLength(1);
  return keys[0] as string;
};

const actionsOf = (statement: PolicyStatementJson): string[] =>
  Array.isArray(statement.Action) ? statement.Action : [statement.Action];

/** Every IAM statement of the template, inline and managed policies alike. */
const allStatements = (template: Template): PolicyStatementJson[] =>
  [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ].flatMap(
    (policy) =>
      (policy as PolicyJson).Properties.PolicyDocument
        .Statement as PolicyStatementJson[],
  );

const synthesize = (
  build: (app: App) => Stack,
): { template: Template; stack: Stack; outdir: string } => {
  const app = new App({ context: cdkContext() });
  const stack = build(app);
  const template = Template.fromStack(stack);
  return { template, stack, outdir: app.outdir };
};

describe('the service stack', () => {
  let template: Template;
  let outdir: string;

  beforeAll(() => {
    ({ template, outdir } = synthesize(
      (app) => new PluginReloadStack(app, 'PluginReload'),
    ));
  }, SYNTH_TIMEOUT_MS);

  describe('catalog table', () => {
    it('is the only table, keyed as the shared table definition says', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 0);
      template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: [
          { AttributeName: catalogTable.partitionKey, KeyType: 'HASH' },
          { AttributeName: catalogTable.sortKey, KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      });
    });

    it('has the plugin index with only the projected attributes', () => {
      const { pluginIndex } = catalogTable;
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        GlobalSecondaryIndexes: [
          {
            IndexName: pluginIndex.name,
            KeySchema: [
              { AttributeName: pluginIndex.partitionKey, KeyType: 'HASH' },
              { AttributeName: pluginIndex.sortKey, KeyType: 'RANGE' },
            ],
            Projection: {
              ProjectionType: 'INCLUDE',
              NonKeyAttributes: [...pluginIndex.projectedAttributes],
            },
          },
        ],
      });
    });

    it('expires items by the time-to-live attribute', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TimeToLiveSpecification: {
          AttributeName: catalogTable.timeToLiveAttribute,
          Enabled: true,
        },
      });
    });

    it('is encrypted and recoverable to a point in time', () => {
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true },
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: {
              PointInTimeRecoveryEnabled: true,
            },
          }),
        ],
      });
    });

    it('is kept when the stack is deleted or the table replaced', () => {
      template.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });
  });

  describe('handler function', () => {
    it('is one Node.js 22 function on arm64', () => {
      template.resourceCountIs('AWS::Lambda::Function', 1);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
    });

    it('has one vCPU of memory and stops before API Gateway gives up', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        MemorySize: 1769,
        Timeout: 29,
      });
    });

    it('is told the catalog table, its secrets and its metrics namespace', () => {
      const table = onlyKey(
        template.findResources('AWS::DynamoDB::GlobalTable'),
      );
      const secrets = Object.keys(
        template.findResources('AWS::SecretsManager::Secret'),
      );
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            CATALOG_TABLE_NAME: { Ref: table },
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'plugin-reload',
            POWERTOOLS_METRICS_NAMESPACE: 'PluginReload',
            TOKEN_HMAC_KEY_SECRET_ARN: {
              Ref: Match.stringLikeRegexp('TokenHmacKey'),
            },
            ROOT_TOKEN_SECRET_ARN: { Ref: Match.stringLikeRegexp('RootToken') },
            DYNAMODB_ATTEMPT_TIMEOUT_MS: '5000',
          },
        },
      });
      expect(secrets).toHaveLength(2);
    });

    it('is traced by X-Ray', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        TracingConfig: { Mode: 'Active' },
      });
    });

    it('logs to its own log group, which expires old lines', () => {
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function'),
      );
      const logGroup = fn?.Properties.LoggingConfig.LogGroup.Ref;
      const group = template.findResources('AWS::Logs::LogGroup')[logGroup];
      expect(group?.Properties.RetentionInDays).toBe(30);
    });

    it('runs code that esbuild bundled, with the entry Lambda loads', () => {
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function'),
      );
      const key = String(fn?.Properties.Code.S3Key);
      const asset = join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
      expect(existsSync(join(asset, BUNDLE_ENTRY_FILE))).toBe(true);
      expect(existsSync(join(asset, `${BUNDLE_ENTRY_FILE}.map`))).toBe(true);
    });
  });

  describe('secrets', () => {
    it('generates the root token and the HMAC key, so neither is in the template', () => {
      const secrets = template.findResources('AWS::SecretsManager::Secret');
      expect(Object.keys(secrets)).toHaveLength(2);
      for (const secret of Object.values(secrets)) {
        expect(secret.Properties.GenerateSecretString).toMatchObject({
          ExcludePunctuation: true,
        });
        expect(secret.Properties.SecretString).toBeUndefined();
      }
      expect(JSON.stringify(template.toJSON())).not.toContain('"SecretString"');
    });

    it('are kept with the table, whose token digests need the key', () => {
      template.allResources('AWS::SecretsManager::Secret', {
        DeletionPolicy: 'Retain',
      });
    });

    it('are not outputs: only the root token secret is named, by ARN', () => {
      const outputs = JSON.stringify(template.toJSON().Outputs);
      expect(outputs).toContain('RootToken');
      expect(outputs).not.toContain('TokenHmacKey');
      expect(outputs).not.toContain('GetSecretValue');
    });
  });

  describe('HTTP API', () => {
    it('has exactly one route, which takes everything under /v1/', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
      template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'ANY /v1/{proxy+}',
      });
    });

    it('sends the payload 2.0 event to the function', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
    });

    it('serves one auto-deployed default stage, throttled', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: 50,
          ThrottlingBurstLimit: 100,
        },
      });
    });

    it('writes a JSON access log line per request, with its request id', () => {
      const [stage] = Object.values(
        template.findResources('AWS::ApiGatewayV2::Stage'),
      );
      const settings = stage?.Properties.AccessLogSettings;
      expect(settings.DestinationArn['Fn::GetAtt'][1]).toBe('Arn');
      const format = JSON.parse(settings.Format);
      expect(format.requestId).toBe('$context.requestId');
      expect(format.status).toBe('$context.status');
      // Headers would carry tokens; no header is logged.
      expect(settings.Format).not.toMatch(/header/i);
    });

    it('publishes the addresses a user needs after deploying', () => {
      template.hasOutput('ApiUrl', {});
      template.hasOutput('TableName', {});
      template.hasOutput('RootTokenSecret', {});
      template.hasOutput('DashboardName', {});
    });
  });

  describe("handler's permissions", () => {
    const functionRole = (): string => {
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function'),
      );
      return fn?.Properties.Role['Fn::GetAtt'][0];
    };

    const statementsOfRole = (role: string): PolicyStatementJson[] =>
      Object.values(
        template.findResources('AWS::IAM::Policy') as Record<
          string,
          PolicyJson
        >,
      )
        .filter((policy) =>
          policy.Properties.Roles.some((ref) => ref.Ref === role),
        )
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement);

    const actionsOfRole = (role: string): string[] =>
      statementsOfRole(role).flatMap(actionsOf);

    it('name no wildcard action', () => {
      const actions = actionsOfRole(functionRole());
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    });

    it('allow exactly the table actions the handler sends', () => {
      const tableActions = actionsOfRole(functionRole()).filter((action) =>
        action.startsWith('dynamodb:'),
      );
      expect([...new Set(tableActions)].sort()).toEqual(ALLOWED_TABLE_ACTIONS);
    });

    it('come from no managed policy', () => {
      const role = template.findResources('AWS::IAM::Role')[functionRole()];
      expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    });

    it('reach only the table, its plugin index, the log group and the secrets', () => {
      const table = onlyKey(
        template.findResources('AWS::DynamoDB::GlobalTable'),
      );
      const [fn] = Object.values(
        template.findResources('AWS::Lambda::Function'),
      );
      const logGroup = fn?.Properties.LoggingConfig.LogGroup.Ref;
      const secrets = Object.keys(
        template.findResources('AWS::SecretsManager::Secret'),
      );
      const named = statementsOfRole(functionRole()).filter(
        (statement) => statement.Resource !== '*',
      );
      const resources = named
        .flatMap((statement) => statement.Resource)
        .map((resource) => JSON.stringify(resource));
      expect(resources.join()).not.toContain('*');
      for (const resource of resources) {
        expect(
          [table, logGroup, ...secrets].some((id) => resource.includes(id)),
        ).toBe(true);
      }
      expect(resources.join()).toContain(
        `/index/${catalogTable.pluginIndex.name}`,
      );
    });

    it('use "*" only to send X-Ray traces, which have no resource', () => {
      const onEverything = statementsOfRole(functionRole()).filter(
        (statement) => statement.Resource === '*',
      );
      expect(onEverything.flatMap(actionsOf).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    });

    it('read the two secrets and write nothing to them', () => {
      const secretActions = actionsOfRole(functionRole()).filter((action) =>
        action.startsWith('secretsmanager:'),
      );
      expect([...new Set(secretActions)].sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
    });
  });

  describe('worker policy', () => {
    const workerStatements = () => {
      const policy = onlyKey(template.findResources('AWS::IAM::ManagedPolicy'));
      return (
        template.findResources('AWS::IAM::ManagedPolicy')[
          policy
        ] as unknown as PolicyJson
      ).Properties.PolicyDocument.Statement;
    };

    it('is a managed policy, exported for teams to attach to worker roles', () => {
      const policy = onlyKey(template.findResources('AWS::IAM::ManagedPolicy'));
      template.hasOutput('WorkerPolicyArn', {
        Value: { Ref: policy },
        Export: { Name: 'PluginReload-worker-policy' },
      });
    });

    it('allows only reading mounts, acknowledging and the heartbeat', () => {
      const access = workerStatements().map((statement) => ({
        actions: actionsOf(statement),
        leadingKeys:
          statement.Condition?.['ForAllValues:StringLike']?.[
            'dynamodb:LeadingKeys'
          ],
      }));
      expect(access).toEqual([
        { actions: ['dynamodb:BatchGetItem'], leadingKeys: ['MOUNT#*'] },
        { actions: ['dynamodb:UpdateItem'], leadingKeys: ['OBSERVED#*'] },
        { actions: ['dynamodb:PutItem'], leadingKeys: ['WORKER#*'] },
      ]);
    });

    it('names the table itself, not its index or any other table', () => {
      const table = onlyKey(
        template.findResources('AWS::DynamoDB::GlobalTable'),
      );
      for (const statement of workerStatements()) {
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': [table, 'Arn'] });
      }
    });
  });

  describe('whole template', () => {
    it('has no IAM statement with a wildcard DynamoDB action', () => {
      const actions = allStatements(template).flatMap(actionsOf);
      expect(actions.some((action) => action.startsWith('dynamodb:'))).toBe(
        true,
      );
      expect(
        actions.filter(
          (action) => action.startsWith('dynamodb:') && action.includes('*'),
        ),
      ).toEqual([]);
      expect(actions).not.toContain('*');
    });

    it('leaves no data store without encryption at rest', () => {
      // The table says so explicitly; Secrets Manager and CloudWatch Logs
      // always encrypt, with their service keys unless told another.
      template.allResourcesProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true },
      });
      const types = new Set(
        Object.values(template.toJSON().Resources).map(
          (resource) => (resource as { Type: string }).Type,
        ),
      );
      const storesData = [...types].filter((type) =>
        /DynamoDB|S3::Bucket|SQS|SNS::Topic|RDS|EFS|Kinesis/.test(type),
      );
      expect(storesData).toEqual(['AWS::DynamoDB::GlobalTable']);
    });
  });

  describe('alarms and dashboard', () => {
    it('alarm on 5xx rate, throttles, Lambda errors and DynamoDB system errors', () => {
      const alarms = Object.keys(
        template.findResources('AWS::CloudWatch::Alarm'),
      );
      expect(
        alarms
          .map((id) => id.replace(/^ServiceMonitoring|[0-9A-F]{8}$/g, ''))
          .sort(),
      ).toEqual([
        'CatalogSystemErrors',
        'CatalogThrottles',
        'LambdaErrors',
        'LambdaThrottles',
        'ServerErrorRate',
      ]);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({
            Expression: Match.stringLikeRegexp('100 \\* errors / requests'),
          }),
        ]),
        Threshold: 5,
      });
    });

    it('notify nobody unless given a topic', () => {
      template.allResourcesProperties('AWS::CloudWatch::Alarm', {
        AlarmActions: Match.absent(),
      });
    });

    it('has a dashboard with the service metrics', () => {
      const [dashboard] = Object.values(
        template.findResources('AWS::CloudWatch::Dashboard'),
      );
      const body = JSON.stringify(dashboard?.Properties.DashboardBody);
      for (const metric of [
        'Reloads',
        'MountsReloaded',
        'RejectedRequests',
        'DynamoDBLatency',
      ]) {
        expect(body).toContain(metric);
      }
    });
  });
});

describe('the service construct with every option', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthesize((app) => {
      // A table's own key is named per region, so the stack names one.
      const stack = new Stack(app, 'Embedding', {
        env: { region: 'eu-west-1' },
      });
      new PluginReloadService(stack, 'Reload', {
        tableName: 'team-catalog',
        removalPolicy: RemovalPolicy.DESTROY,
        customerManagedKey: true,
        reservedConcurrency: 20,
        throttling: { rateLimit: 5, burstLimit: 10 },
        alarmTopic: Topic.fromTopicArn(
          stack,
          'Oncall',
          'arn:aws:sns:eu-west-1:123456789012:oncall',
        ),
        customDomain: {
          domainName: 'vault-reload.example.com',
          certificate: Certificate.fromCertificateArn(
            stack,
            'Certificate',
            'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
          ),
          hostedZone: HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
            hostedZoneId: 'Z0123456789',
            zoneName: 'example.com',
          }),
        },
      });
      return stack;
    }));
  }, SYNTH_TIMEOUT_MS);

  it('encrypts the table and both secrets with its own rotated key', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
    });
    const key = onlyKey(template.findResources('AWS::KMS::Key'));
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'team-catalog',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({
          SSESpecification: {
            KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
          },
        }),
      ],
    });
    template.allResourcesProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
    });
  });

  it('lets the handler and the workers use the key only through DynamoDB', () => {
    const keyStatements = allStatements(template).filter((statement) =>
      actionsOf(statement).includes('kms:GenerateDataKey'),
    );
    // One in the handler's role, one in the worker policy.
    expect(keyStatements).toHaveLength(2);
    for (const statement of keyStatements) {
      expect(JSON.stringify(statement.Condition)).toContain('dynamodb.');
    }
  });

  it('deletes what it made when told to, key included', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
    });
    template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
  });

  it('reserves concurrency and throttles the stage as told', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 20,
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: {
        ThrottlingRateLimit: 5,
        ThrottlingBurstLimit: 10,
      },
    });
  });

  it('serves the API at its own domain, with an alias record', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'vault-reload.example.com',
    });
    template.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'vault-reload.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789',
    });
  });

  it('sends every alarm, and its recovery, to the topic', () => {
    template.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'],
      OKActions: ['arn:aws:sns:eu-west-1:123456789012:oncall'],
    });
  });
});

describe('stages', () => {
  const propsFor = (context: Record<string, unknown>) =>
    stackPropsFromContext(new App({ context }));

  it('name the stack, the table and the secrets after the stage', () => {
    const props = propsFor({ stage: 'prod' });
    expect(props.stage).toBe('prod');
    expect(props.stackName).toBe('plugin-reload-prod');
    expect(props.service?.tableName).toBe('plugin-reload-prod-catalog');
    expect(props.service?.secretNamePrefix).toBe('plugin-reload/prod');
    expect(props.service?.metricsNamespace).toBe('PluginReload/prod');
  });

  it('default to dev, kept on deletion', () => {
    const props = propsFor({});
    expect(props.stackName).toBe('plugin-reload-dev');
    expect(props.service?.removalPolicy).toBe(RemovalPolicy.RETAIN);
  });

  it('take their settings from -c values, which arrive as strings', () => {
    const props = propsFor({
      stage: 'staging',
      removalPolicy: 'destroy',
      customerManagedKey: 'true',
      region: 'eu-west-1',
      reservedConcurrency: '10',
      throttleRate: '20',
      logRetentionDays: '90',
      existingTableName: 'kept-catalog',
    });
    expect(props.service).toMatchObject({
      removalPolicy: RemovalPolicy.DESTROY,
      customerManagedKey: true,
      reservedConcurrency: 10,
      throttling: { rateLimit: 20, burstLimit: 100 },
      logRetention: 90,
      tableName: undefined,
    });
    expect(props.imports?.existingTable).toEqual({
      tableName: 'kept-catalog',
      keyArn: undefined,
    });
  });

  it('refuse a setting that cannot work, saying which', () => {
    expect(() => propsFor({ stage: 'Prod_1' })).toThrow(ContextError);
    expect(() => propsFor({ removalPolicy: 'snapshot' })).toThrow(
      /removalPolicy/,
    );
    expect(() => propsFor({ reservedConcurrency: 'lots' })).toThrow(
      /reservedConcurrency/,
    );
    expect(() => propsFor({ logRetentionDays: '45' })).toThrow(
      /logRetentionDays/,
    );
    expect(() => propsFor({ domainName: 'x.example.com' })).toThrow(
      /certificateArn/,
    );
  });

  it('name a region when the table has its own key', () => {
    const props = propsFor({ customerManagedKey: 'true', region: 'eu-west-1' });
    expect(props.env).toEqual({ region: 'eu-west-1' });
    expect(propsFor({}).env).toBeUndefined();
    const { CDK_DEFAULT_REGION } = process.env;
    delete process.env.CDK_DEFAULT_REGION;
    try {
      expect(() => propsFor({ customerManagedKey: 'true' })).toThrow(/region/);
    } finally {
      if (CDK_DEFAULT_REGION)
        process.env.CDK_DEFAULT_REGION = CDK_DEFAULT_REGION;
    }
  });
});
