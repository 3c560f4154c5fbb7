import { type RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  DomainName,
  HttpApi,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  ARecord,
  type IHostedZone,
  RecordTarget,
} from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

/** Requests per second the stage lets through, and the burst above it. */
export interface ThrottlingLimits {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/**
 * Reloads come from deploy pipelines and operators, a few a minute; these
 * limits leave room for a busy release day and stop a runaway client long
 * before it can cost anything that matters.
 */
export const DEFAULT_THROTTLING: ThrottlingLimits = {
  rateLimit: 50,
  burstLimit: 100,
};

/** A name of one's own for the API, instead of the execute-api address. */
export interface CustomDomain {
  /** Such as `vault-reload.example.com`. */
  readonly domainName: string;
  /** An ACM certificate for that name, in the stack's region. */
  readonly certificate: ICertificate;
  /** When given, an alias record for the name is made in this zone. */
  readonly hostedZone?: IHostedZone;
}

export interface ServiceApiProps {
  readonly handler: IFunction;
  readonly throttling?: ThrottlingLimits;
  readonly customDomain?: CustomDomain;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * One line per request in the access log, as JSON. API Gateway fills these
 * in itself; none of them is a header, so no token can appear here.
 */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
};

/**
 * The HTTP API in front of the handler: one route, `ANY /v1/{proxy+}`, on
 * a `$default` stage with throttling and JSON access logs, and optionally
 * a custom domain.
 *
 * @example
 * const { api, stage } = new ServiceApi(this, 'Api', { handler });
 * new CfnOutput(this, 'ApiUrl', { value: api.apiEndpoint });
 */
export class ServiceApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;
  readonly domainName?: DomainName;

  constructor(scope: Construct, id: string, props: ServiceApiProps) {
    super(scope, id);

    this.api = new HttpApi(this, 'HttpApi', {
      description: 'Vault plugin reload API',
      // The stage is made below, with the settings a default one lacks.
      createDefaultStage: false,
    });
    // One catch-all route: the handler does its own routing, exactly as the
    // local stack does, so both answer every path the same way.
    this.api.addRoutes({
      path: '/v1/{proxy+}',
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('ApiIntegration', props.handler, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        "Callers authenticate as Vault clients do, with a Vault token (X-Vault-Token or a bearer token) that the handler checks against the catalog's token store and policies on every request; an API Gateway authorizer cannot check those tokens, and Vault clients send nothing else.",
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy,
    });

    if (props.customDomain) {
      this.domainName = new DomainName(this, 'DomainName', {
        domainName: props.customDomain.domainName,
        certificate: props.customDomain.certificate,
      });
      if (props.customDomain.hostedZone) {
        new ARecord(this, 'DomainRecord', {
          zone: props.customDomain.hostedZone,
          recordName: props.customDomain.domainName,
          target: RecordTarget.fromAlias(
            new ApiGatewayv2DomainProperties(
              this.domainName.regionalDomainName,
              this.domainName.regionalHostedZoneId,
            ),
          ),
        });
      }
    }

    const throttling = props.throttling ?? DEFAULT_THROTTLING;
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: throttling.rateLimit,
        burstLimit: throttling.burstLimit,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      domainMapping: this.domainName
        ? { domainName: this.domainName }
        : undefined,
    });
  }
}
