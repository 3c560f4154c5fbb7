import { readFileSync } from 'node:fs';
import {
  App,
  type IPolicyValidationPluginBeta1,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../infra/create-app.js';
import { PluginReloadService } from '../../infra/stack/plugin-reload-service.js';
import { PluginReloadStack } from '../../infra/stack/service-stack.js';

/**
 * The findings the service acknowledges, each where it arises, with the
 * reason kept beside the code. A new acknowledgement must be added here
 * too, so it is reviewed rather than slipped in.
 */
const ACKNOWLEDGED = [
  'AwsSolutions-APIG4',
  'AwsSolutions-IAM5[Resource::*]',
  'AwsSolutions-L1',
  'AwsSolutions-SMG4',
  'AwsSolutions-SMG4',
];

const SYNTH_TIMEOUT_MS = 180_000;

/**
 * The app's feature flags, with bundling skipped: the rules read the
 * resources, not the handler's code.
 */
const cdkContext = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
    .context;

const context = (): Record<string, unknown> => ({
  ...cdkContext(),
  'aws:cdk:bundling-stacks': [],
});

const findings = (scope: IConstruct) =>
  (
    new AwsSolutionsChecks() as unknown as {
      validateScope(
        scope: IConstruct,
      ): ReturnType<IPolicyValidationPluginBeta1['validate']>;
    }
  ).validateScope(scope);

const acknowledgements = (scope: IConstruct) =>
  scope.node.findAll().flatMap((node) =>
    node.node.metadata
      .filter(
        (entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY,
      )
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(
          ([id, reason]) => ({
            // CDK records a rule acknowledged by its bare id as an annotation.
            id: id.replace(/^Annotation::/, ''),
            reason,
            path: node.node.path,
          }),
        ),
      ),
  );

const fullyOptioned = (app: App) => {
  const stack = new Stack(app, 'Embedding', { env: { region: 'eu-west-1' } });
  new PluginReloadService(stack, 'Reload', {
    customerManagedKey: true,
    reservedConcurrency: 20,
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
};

describe("cdk-nag's AWS Solutions checks", () => {
  it(
    'find nothing unacknowledged in the stack as deployed',
    () => {
      const app = new App({ context: context() });
      const stack = new PluginReloadStack(app, 'PluginReload');
      const report = findings(stack);
      expect(report.violations).toEqual([]);
      expect(report.success).toBe(true);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'find nothing unacknowledged with every option of the construct on',
    () => {
      const app = new App({ context: context() });
      const report = findings(fullyOptioned(app));
      expect(report.violations).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'are acknowledged only where listed, each with a reason a reviewer can weigh',
    () => {
      const app = new App({ context: context() });
      const stack = new PluginReloadStack(app, 'PluginReload');
      const acknowledged = acknowledgements(stack);
      expect(acknowledged.map(({ id }) => id).sort()).toEqual(ACKNOWLEDGED);
      for (const { reason } of acknowledged) {
        expect(reason.length).toBeGreaterThan(80);
      }
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'report a new finding: a wildcard DynamoDB permission',
    () => {
      const app = new App({ context: context() });
      const stack = new PluginReloadStack(app, 'PluginReload');
      stack.handler.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:*'],
          resources: [stack.table.tableArn],
        }),
      );
      const report = findings(stack);
      expect(report.success).toBe(false);
      expect(report.violations.map((violation) => violation.ruleName)).toEqual([
        'AwsSolutions-IAM5[Action::dynamodb:*]',
      ]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'run in the app, so that synthesis stops at a new finding',
    () => {
      // Bundled for real: a synth without bundling would copy the whole
      // project, node_modules included, as the function's code.
      const appContext = { ...cdkContext(), stage: 'test' };
      const clean = createApp({ context: appContext });
      expect(() => clean.synth()).not.toThrow();

      const app = createApp({ context: appContext });
      const stack = app.node.findChild(
        'PluginReload-test',
      ) as PluginReloadStack;
      stack.handler.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:*'],
          resources: [stack.table.tableArn],
        }),
      );
      expect(() => app.synth()).toThrow(
        /wildcard permissions[\s\S]*dynamodb:\*/,
      );
    },
    SYNTH_TIMEOUT_MS,
  );
});
