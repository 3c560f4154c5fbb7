import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ITableV2, Operation } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  METRIC_NAMES,
  REASON_DIMENSION,
  SERVICE_DIMENSION,
  SERVICE_NAME,
} from '../../functions/api/metric-names.js';

/** The DynamoDB operations the handler and the workers send. */
const CATALOG_OPERATIONS = [
  Operation.GET_ITEM,
  Operation.BATCH_GET_ITEM,
  Operation.QUERY,
  Operation.PUT_ITEM,
  Operation.UPDATE_ITEM,
  Operation.DELETE_ITEM,
  Operation.BATCH_WRITE_ITEM,
  Operation.TRANSACT_WRITE_ITEMS,
];

const PERIOD = Duration.minutes(5);

/**
 * A share of 5xx answers worth waking someone for, and the least traffic in
 * five minutes for which a share means anything: two failures out of three
 * requests is noise, fifty out of a thousand is not.
 */
const SERVER_ERROR_PERCENT = 5;
const SERVER_ERROR_MIN_REQUESTS = 20;

export interface MonitoringProps {
  readonly api: HttpApi;
  readonly handler: IFunction;
  readonly table: ITableV2;
  /** Where the handler publishes its own metrics. */
  readonly metricsNamespace: string;
  /** Alarms notify this topic, going off and coming back, when given. */
  readonly alarmTopic?: ITopic;
}

/**
 * The service's alarms (5xx rate, throttles, Lambda errors, DynamoDB system
 * errors) and a dashboard of what an operator looks at first.
 *
 * @example
 * new Monitoring(this, 'Monitoring', {
 *   api, handler, table, metricsNamespace: 'PluginReload',
 * });
 */
export class Monitoring extends Construct {
  readonly alarms: Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { api, handler, table } = props;

    const ownMetric = (metricName: string, statistic: string, label: string) =>
      new Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAME },
        statistic,
        period: PERIOD,
        label,
      });

    const requests = api.metricCount({ statistic: 'Sum', period: PERIOD });
    const serverErrors = api.metricServerError({
      statistic: 'Sum',
      period: PERIOD,
    });
    const clientErrors = api.metricClientError({
      statistic: 'Sum',
      period: PERIOD,
    });
    const serverErrorRate = new MathExpression({
      expression: `IF(requests >= ${SERVER_ERROR_MIN_REQUESTS}, 100 * errors / requests, 0)`,
      usingMetrics: { requests, errors: serverErrors },
      period: PERIOD,
      label: '5xx answers (%)',
    });
    const lambdaErrors = handler.metricErrors({ period: PERIOD });
    const lambdaThrottles = handler.metricThrottles({ period: PERIOD });
    const tableThrottles = table.metricThrottledRequestsForOperations({
      operations: CATALOG_OPERATIONS,
      period: PERIOD,
    });
    const tableSystemErrors = table.metricSystemErrorsForOperations({
      operations: CATALOG_OPERATIONS,
      period: PERIOD,
    });

    const alarm = (
      name: string,
      metric: IMetric,
      threshold: number,
      description: string,
    ) =>
      new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator:
          ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No traffic is no failure.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });

    this.alarms = [
      alarm(
        'ServerErrorRate',
        serverErrorRate,
        SERVER_ERROR_PERCENT,
        `At least ${SERVER_ERROR_PERCENT}% of API answers in five minutes were 5xx: DynamoDB is failing, or the handler is.`,
      ),
      alarm(
        'LambdaErrors',
        lambdaErrors,
        1,
        'The handler crashed or timed out. Every error it knows becomes an answer, so this is a bug or a cold start that cannot read its secrets.',
      ),
      alarm(
        'LambdaThrottles',
        lambdaThrottles,
        1,
        'Lambda refused invocations: the account or the reserved concurrency is exhausted, and callers got 5xx answers.',
      ),
      alarm(
        'CatalogThrottles',
        tableThrottles,
        1,
        'DynamoDB throttled catalog requests; callers got 429 answers and nothing was changed.',
      ),
      alarm(
        'CatalogSystemErrors',
        tableSystemErrors,
        1,
        'DynamoDB failed catalog requests on its side; callers got 503 answers and nothing was changed.',
      ),
    ];
    if (props.alarmTopic) {
      const action = new SnsAction(props.alarmTopic);
      for (const each of this.alarms) {
        each.addAlarmAction(action);
        each.addOkAction(action);
      }
    }

    const rejectedByReason = new MathExpression({
      expression: `SEARCH('{${props.metricsNamespace},${REASON_DIMENSION},${SERVICE_DIMENSION}} MetricName="${METRIC_NAMES.rejectedRequests}"', 'Sum', ${PERIOD.toSeconds()})`,
      usingMetrics: {},
      label: 'rejected:',
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        left: [requests, clientErrors, serverErrors],
        right: [serverErrorRate],
      }),
      new GraphWidget({
        title: 'API latency (ms)',
        left: [
          api.metricLatency({ statistic: 'p50', period: PERIOD }),
          api.metricLatency({ statistic: 'p99', period: PERIOD }),
        ],
      }),
      new GraphWidget({
        title: 'Reloads',
        left: [
          ownMetric(METRIC_NAMES.reloads, 'Sum', 'reloads'),
          ownMetric(METRIC_NAMES.mountsReloaded, 'Sum', 'mounts reloaded'),
        ],
        right: [rejectedByReason],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Handler',
        left: [
          handler.metricInvocations({ period: PERIOD }),
          lambdaErrors,
          lambdaThrottles,
        ],
        right: [handler.metricDuration({ statistic: 'p99', period: PERIOD })],
      }),
      new GraphWidget({
        title: 'DynamoDB latency seen by the handler (ms)',
        left: [
          ownMetric(METRIC_NAMES.dynamodbLatency, 'p50', 'p50'),
          ownMetric(METRIC_NAMES.dynamodbLatency, 'p99', 'p99'),
        ],
      }),
      new GraphWidget({
        title: 'Catalog capacity used',
        left: [
          table.metricConsumedReadCapacityUnits({ period: PERIOD }),
          table.metricConsumedWriteCapacityUnits({ period: PERIOD }),
        ],
      }),
      // One graph each: both sum the same per-operation metrics' ids.
      new GraphWidget({ title: 'Catalog throttles', left: [tableThrottles] }),
      new GraphWidget({
        title: 'Catalog system errors',
        left: [tableSystemErrors],
      }),
    );
  }
}
