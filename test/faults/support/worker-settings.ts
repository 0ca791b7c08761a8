/** Settings shared by the delivery worker processes of one scenario. */
export function workerSettings(options: {
  redisUrl: string;
  queuePrefix: string;
  dnsPort: number;
  sinkPort: number;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    REDIS_URL: options.redisUrl,
    QUEUE_PREFIX: options.queuePrefix,
    DNS_SERVERS: `127.0.0.1:${options.dnsPort}`,
    DNS_TIMEOUT_MS: '1000',
    SMTP_DELIVERY_PORT: String(options.sinkPort),
    DELIVERY_CONNECT_TIMEOUT_MS: '2000',
    DELIVERY_SOCKET_TIMEOUT_MS: '3000',
    DELIVERY_SESSION_TIMEOUT_MS: '6000',
    DELIVERY_CONCURRENCY_PER_DOMAIN: '5',
    WORKER_CONCURRENCY: '20',
    DATABASE_POOL_SIZE: '8',
    FAULT_SWEEP_MS: '1000',
    FAULT_LOCK_MS: '5000',
    ...options.extra,
  };
}
