export {
  createMetricsRegistry,
  runHealthChecks,
  startOpsServer,
  type HealthCheck,
  type HealthReport,
  type OpsServer,
} from './health';
export { onShutdown } from './shutdown';
