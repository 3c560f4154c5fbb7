import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { type ITableV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import {
  PluginReloadService,
  type PluginReloadServiceProps,
} from './plugin-reload-service.js';

/**
 * Resources that exist outside the stack, named by ARN or name, so the app
 * can take them from `-c` settings. The stack imports them; nothing is
 * looked up, so synthesis stays offline.
 */
export interface ServiceImports {
  /** A catalog table kept from an earlier deployment. */
  readonly existingTable?: { tableName: string; keyArn?: string };
  readonly alarmTopicArn?: string;
  readonly customDomain?: {
    domainName: string;
    certificateArn: string;
    hostedZone?: { hostedZoneId: string; zoneName: string };
  };
}

export interface PluginReloadStackProps extends StackProps {
  /** What the service is built with; see `PluginReloadService`. */
  readonly service?: PluginReloadServiceProps;
  readonly imports?: ServiceImports;
}

/**
 * The stack `npx cdk deploy` deploys: the `PluginReloadService` construct
 * and the outputs a user needs afterwards. `infra/app.ts` names it and its
 * resources after the stage (`-c stage=prod`).
 *
 * @example
 * const app = new App();
 * new PluginReloadStack(app, 'PluginReload-prod', {
 *   stackName: 'plugin-reload-prod',
 *   service: { tableName: 'plugin-reload-prod-catalog' },
 * });
 */
export class PluginReloadStack extends Stack {
  readonly service: PluginReloadService;
  readonly table: ITableV2;
  readonly handler: LambdaFunction;
  readonly api: HttpApi;

  constructor(
    scope: Construct,
    id: string,
    props: PluginReloadStackProps = {},
  ) {
    super(scope, id, props);

    this.service = new PluginReloadService(this, 'Service', {
      ...props.service,
      ...this.#imported(props.imports ?? {}),
    });
    this.table = this.service.table;
    this.handler = this.service.handler;
    this.api = this.service.api;

    new CfnOutput(this, 'ApiUrl', {
      description: 'Address for clients, as VAULT_ADDR',
      value: this.api.apiEndpoint,
    });
    new CfnOutput(this, 'TableName', {
      description: 'Catalog table, for workers and catalog imports',
      value: this.table.tableName,
    });
    new CfnOutput(this, 'RootTokenSecret', {
      description:
        'Secrets Manager secret holding the root token (its ARN, never its value)',
      value: this.service.secrets.rootToken.secretArn,
    });
    new CfnOutput(this, 'WorkerPolicyArn', {
      description:
        'Managed policy to attach to the roles plugin workers run as',
      value: this.service.workerPolicy.managedPolicyArn,
      exportName: `${this.stackName}-worker-policy`,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard of the service',
      value: this.service.monitoring.dashboard.dashboardName,
    });
    const domain = this.service.domainName;
    if (domain) {
      new CfnOutput(this, 'CustomDomainUrl', {
        description: 'The API at its own domain name, as VAULT_ADDR',
        value: `https://${domain.name}`,
      });
      new CfnOutput(this, 'CustomDomainTarget', {
        description: 'Where a CNAME of the custom domain must point',
        value: domain.regionalDomainName,
      });
    }
  }

  #imported(imports: ServiceImports): Partial<PluginReloadServiceProps> {
    const props: {
      -readonly [K in keyof PluginReloadServiceProps]: PluginReloadServiceProps[K];
    } = {};
    if (imports.existingTable) {
      const { tableName, keyArn } = imports.existingTable;
      props.table = TableV2.fromTableAttributes(this, 'ExistingCatalog', {
        tableName,
        encryptionKey: keyArn
          ? Key.fromKeyArn(this, 'ExistingCatalogKey', keyArn)
          : undefined,
      });
    }
    if (imports.alarmTopicArn) {
      props.alarmTopic = Topic.fromTopicArn(
        this,
        'AlarmTopic',
        imports.alarmTopicArn,
      );
    }
    const domain = imports.customDomain;
    if (domain) {
      props.customDomain = {
        domainName: domain.domainName,
        certificate: Certificate.fromCertificateArn(
          this,
          'Certificate',
          domain.certificateArn,
        ),
        hostedZone: domain.hostedZone
          ? HostedZone.fromHostedZoneAttributes(
              this,
              'HostedZone',
              domain.hostedZone,
            )
          : undefined,
      };
    }
    return props;
  }
}
