import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type middy from '@middy/core';
import type { Catalog } from '../catalog/client.js';
import { toErrorAnswer } from './error-response.js';
import {
  DEFAULT_METRICS_NAMESPACE,
  METRIC_NAMES,
  REASON_DIMENSION,
  SERVICE_NAME,
} from './metric-names.js';
import type {
  ApiContext,
  ApiEvent,
  ApiResult,
} from './middlewares/api-context.js';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;

/**
 * The logger, metrics and tracer of one Lambda container. Built once, at
 * cold start, and shared by every invocation, as Powertools expects.
 */
export const logger = new Logger({ serviceName });

export const metrics = new Metrics({
  namespace:
    process.env.POWERTOOLS_METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
  serviceName,
  // Its own warnings go through the logger, so they are JSON too.
  logger,
});

/** Records nothing outside Lambda, where there is no X-Ray daemon. */
export const tracer = new Tracer({ serviceName });

/**
 * The request a container is serving; Lambda gives it one at a time.
 * Every metric blob carries its id, including those Powertools publishes
 * early, by itself, once a request has stored a hundred values of one
 * metric (a reload of thousands of mounts makes that many DynamoDB calls).
 */
let currentRequestId: string | undefined;

const addRequestMetric = (
  metrics: Metrics,
  name: string,
  unit: Parameters<Metrics['addMetric']>[1],
  value: number,
) => {
  if (currentRequestId) metrics.addMetadata('request_id', currentRequestId);
  metrics.addMetric(name, unit, value);
};

export interface ObservabilityTools {
  metrics: Metrics;
  tracer?: Tracer;
}

/**
 * Traces the catalog's DynamoDB calls as X-Ray subsegments and records how
 * long each took, retries included, as the `DynamoDBLatency` metric.
 *
 * @example
 * const catalog = instrumentCatalog(createCatalog(), { metrics, tracer });
 */
export const instrumentCatalog = (
  catalog: Catalog,
  tools: ObservabilityTools,
): Catalog => {
  tools.tracer?.captureAWSv3Client(catalog.client);
  catalog.client.middlewareStack.add(
    (next) => async (args) => {
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        addRequestMetric(
          tools.metrics,
          METRIC_NAMES.dynamodbLatency,
          MetricUnit.Milliseconds,
          Math.round((performance.now() - started) * 100) / 100,
        );
      }
    },
    // The first step, so the time covers every retry the SDK makes.
    { step: 'initialize', name: 'catalogLatencyMetric', priority: 'high' },
  );
  return catalog;
};

type ApiMiddleware = middy.MiddlewareObj<
  ApiEvent,
  ApiResult,
  Error,
  ApiContext
>;

/**
 * The request's metrics, written when its answer is known. It must come
 * before the middleware that turns errors into answers, so that its own
 * `after` and `onError` run once that one has set the final answer.
 *
 * Metrics are flushed here rather than by Powertools' `logMetrics`, which
 * warns on every request that stored none: a request refused before any
 * DynamoDB call publishes only its rejection, on a line of its own.
 */
const recordRequestMetrics = (metrics: Metrics): ApiMiddleware => {
  const record = (
    request: middy.Request<ApiEvent, ApiResult, Error, ApiContext>,
  ) => {
    const requestId = currentRequestId;
    const log = request.context.vault?.log;
    if (log?.reloadId && log.generationsMoved) {
      addRequestMetric(metrics, METRIC_NAMES.reloads, MetricUnit.Count, 1);
      addRequestMetric(
        metrics,
        METRIC_NAMES.mountsReloaded,
        MetricUnit.Count,
        log.generationsMoved,
      );
    }
    if (request.error) {
      // The same mapping that chose the answer names the reason.
      const { reason } = toErrorAnswer(request.error);
      const rejection = metrics.singleMetric();
      rejection.addDimension(REASON_DIMENSION, reason);
      if (requestId) rejection.addMetadata('request_id', requestId);
      rejection.addMetric(METRIC_NAMES.rejectedRequests, MetricUnit.Count, 1);
    }
    if (metrics.hasStoredMetrics()) {
      if (requestId) metrics.addMetadata('request_id', requestId);
      metrics.publishStoredMetrics();
    }
    currentRequestId = undefined;
  };
  return {
    before: ({ event }) => {
      currentRequestId = event.requestContext?.requestId;
    },
    after: record,
    onError: record,
  };
};

/**
 * The middlewares that trace each invocation and publish its metrics, in
 * the order they must run. The traced answer is never recorded: the answer
 * that creates a token carries it.
 *
 * @example
 * middy().use(observeRequests({ metrics, tracer }));
 */
export const observeRequests = (tools: ObservabilityTools): ApiMiddleware[] => [
  ...(tools.tracer
    ? [
        captureLambdaHandler(tools.tracer, {
          captureResponse: false,
        }) as ApiMiddleware,
      ]
    : []),
  recordRequestMetrics(tools.metrics),
];
