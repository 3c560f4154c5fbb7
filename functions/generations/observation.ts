/**
 * What one worker last observed of one mount, as Kubernetes keeps an
 * `observedGeneration`: the highest generation it reached, and of those the
 * highest it reloaded without error.
 */
export interface ObservationItem {
  pk: string;
  sk: string;
  workerId: string;
  namespace: string;
  kind: 'secret' | 'auth';
  path: string;
  /** The highest generation the worker acted on, successfully or not. */
  observedGeneration: number;
  /** The highest generation whose reload succeeded (or that it started at). */
  reloadedGeneration: number;
  /** The reload that moved the mount to `observedGeneration`, if known. */
  reloadId?: string;
  /** RFC 3339 time of the last observation. */
  observedAt: string;
  /** RFC 3339 time `reloadedGeneration` was reached. */
  reloadedAt: string;
  /** The callback's error for `observedGeneration`, "" when it succeeded. */
  error: string;
}
