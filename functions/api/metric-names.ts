/**
 * The handler's own CloudWatch metrics, named once for the code that writes
 * them and the dashboard that reads them.
 */
export const METRIC_NAMES = {
  /** Reload requests that moved at least one generation. */
  reloads: 'Reloads',
  /** Generations moved, summed over reloads. */
  mountsReloaded: 'MountsReloaded',
  /** Error answers, with the reason as a dimension. */
  rejectedRequests: 'RejectedRequests',
  /** Each DynamoDB call as the handler waits for it, retries included. */
  dynamodbLatency: 'DynamoDBLatency',
} as const;

/** The dimension that splits rejected requests by their reason. */
export const REASON_DIMENSION = 'reason';

/** The dimension Powertools adds to every metric: the service's name. */
export const SERVICE_DIMENSION = 'service';

/** The service's name in logs, metrics and traces. */
export const SERVICE_NAME = 'plugin-reload';

/** The namespace the metrics go to when the deployment names none. */
export const DEFAULT_METRICS_NAMESPACE = 'PluginReload';
