/**
 * The environment of the built worker processes of one scenario: every name here is a setting
 * of libs/config (config.schema.ts), read by dist/apps/worker exactly as in production.
 * The schedulers are re-created every second after a flush; sweeps run every 5 s, not every
 * second: a sweep re-adds every due delivery (1,000 here, one Redis call each), sweeps share the
 * deliveries queue's concurrency and nothing stops them overlapping, so on a busy machine
 * one-second sweeps pile up (18 at once were seen) and starve the deliveries themselves.
 * Timeouts are generous (a busy CI machine must not turn a slow good session into a deferral);
 * a deferral retries after 2 s. BullMQ's lock and stalled check are 10 s (WORKER_LOCK_MS, as an
 * operator who wants a dead worker's jobs back sooner would set it), so a killed worker's or a
 * failed-over Redis master's jobs run again within about 20 s instead of 60. What has no setting
 * (the sweep's 15-minute stuck window) is left at the app's default; see README.md.
 */
export function workerSettings(options: {
  /** REDIS_URL (and REDIS_CLUSTER_NODES under `npm run test:scale`). */
  redis: Record<string, string>;
  queuePrefix: string;
  dnsPort: number;
  sinkPort: number;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    ...options.redis,
    QUEUE_PREFIX: options.queuePrefix,
    DNS_SERVERS: `127.0.0.1:${options.dnsPort}`,
    DNS_TIMEOUT_MS: '10000',
    SMTP_DELIVERY_PORT: String(options.sinkPort),
    DELIVERY_CONNECT_TIMEOUT_MS: '10000',
    DELIVERY_SOCKET_TIMEOUT_MS: '20000',
    DELIVERY_SESSION_TIMEOUT_MS: '30000',
    DELIVERY_RETRY_SCHEDULE: '2s',
    DELIVERY_CONCURRENCY_PER_DOMAIN: '5',
    WORKER_CONCURRENCY: '20',
    WORKER_LOCK_MS: '10000',
    DATABASE_POOL_SIZE: '8',
    SWEEP_INTERVAL_MS: '5000',
    SCHEDULER_REFRESH_MS: '1000',
    ...options.extra,
  };
}
