import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogTable } from '../../functions/catalog/table-definition.js';
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

/** Bundling the handler with esbuild takes a few seconds. */
const SYNTH_TIMEOUT_MS = 60_000;

interface PolicyStatementJson {
  Action: string | string[];
  Resource: unknown;
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

describe('the service stack', () => {
  let template: Template;

  beforeAll(() => {
    const app = new App({ context: cdkContext() });
    const stack = new PluginReloadStack(app, 'PluginReload');
    template = Template.fromStack(stack);
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

    it('is told the catalog table name and keeps source maps', () => {
      const table = onlyKey(
        template.findResources('AWS::DynamoDB::GlobalTable'),
      );
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            CATALOG_TABLE_NAME: { Ref: table },
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'plugin-reload',
          },
        },
      });
    });

    it('logs to its own log group, which expires old lines', () => {
      const logGroup = onlyKey(template.findResources('AWS::Logs::LogGroup'));
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        RetentionInDays: Match.anyValue(),
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogGroup: { Ref: logGroup } },
      });
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

    it('publishes the API address and the table name', () => {
      template.hasOutput('ApiUrl', {});
      template.hasOutput('TableName', {});
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
      statementsOfRole(role).flatMap((statement) =>
        Array.isArray(statement.Action) ? statement.Action : [statement.Action],
      );

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

    it('reach only the table, its plugin index and the log group', () => {
      const table = onlyKey(
        template.findResources('AWS::DynamoDB::GlobalTable'),
      );
      const logGroup = onlyKey(template.findResources('AWS::Logs::LogGroup'));
      const resources = statementsOfRole(functionRole())
        .flatMap((statement) => statement.Resource)
        .map((resource) => JSON.stringify(resource));
      expect(resources.join()).not.toContain('*');
      for (const resource of resources) {
        expect([table, logGroup].some((id) => resource.includes(id))).toBe(
          true,
        );
      }
      expect(resources.join()).toContain(
        `/index/${catalogTable.pluginIndex.name}`,
      );
    });
  });
});
