/**
 * What the refresh reports while it runs, as a port of its own: the refresh knows nothing of
 * the worker or its metrics. The worker passes its `WorkerMetrics`, which has this method.
 */

/** Progress of one refresh run, sent about once a second and at the end. */
export interface RefreshProgress {
  refreshProgress(progress: { written: number; failed: number; total: number }): void;
}
