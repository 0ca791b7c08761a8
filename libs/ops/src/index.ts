export {
  isClusterMessage,
  mergeWorkerHealth,
  runClusterPrimary,
  serveClusterWorker,
  type ClusterPrimary,
  type ClusterPrimaryOptions,
} from './cluster-primary';
export {
  createMetricsRegistry,
  runHealthChecks,
  startOpsServer,
  type HealthCheck,
  type HealthReport,
  type OpsServer,
} from './health';
export { onShutdown } from './shutdown';
