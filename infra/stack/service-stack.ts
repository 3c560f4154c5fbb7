import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import {
  HttpApi,
  HttpMethod,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { createApiFunction } from './api-function.js';
import { createCatalogTable } from './catalog-table.js';

/**
 * The plugin reload service on AWS: an HTTP API whose one route sends every
 * `/v1/` request to one Lambda handler, which keeps mounts, the plugin
 * catalog, generations and reload records in one DynamoDB table.
 *
 * The stack names no account or region and looks nothing up, so it
 * synthesizes offline; `cdk deploy` places it where the AWS credentials
 * in use point.
 *
 * @example
 * const app = new App();
 * const service = new PluginReloadStack(app, 'PluginReload');
 * // service.api.apiEndpoint is the address to give clients as VAULT_ADDR.
 */
export class PluginReloadStack extends Stack {
  readonly table: TableV2;
  readonly handler: NodejsFunction;
  readonly api: HttpApi;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.table = createCatalogTable(this, 'Catalog');
    this.handler = createApiFunction(this, 'ApiFunction', {
      table: this.table,
    });

    this.api = new HttpApi(this, 'Api', {
      description: 'Vault plugin reload API',
    });
    // One catch-all route: the handler does its own routing, exactly as the
    // local stack does, so both answer every path the same way.
    this.api.addRoutes({
      path: '/v1/{proxy+}',
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('ApiIntegration', this.handler, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Address for clients, as VAULT_ADDR',
      value: this.api.apiEndpoint,
    });
    new CfnOutput(this, 'TableName', {
      description: 'Catalog table, for workers and catalog imports',
      value: this.table.tableName,
    });
  }
}
