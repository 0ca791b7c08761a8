import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

export type HealthCheck = () => Promise<boolean>;

export interface HealthReport {
  status: 'ok' | 'error';
  info: Record<string, { status: 'up' }>;
  error: Record<string, { status: 'down' }>;
  details: Record<string, { status: 'up' | 'down' }>;
}

/** Runs the checks in parallel; the shape is @nestjs/terminus's, so all three apps answer alike. */
export async function runHealthChecks(checks: Record<string, HealthCheck>): Promise<HealthReport> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((name) => checks[name]!().catch(() => false)));
  const report: HealthReport = { status: 'ok', info: {}, error: {}, details: {} };
  names.forEach((name, i) => {
    if (results[i]) {
      report.info[name] = { status: 'up' };
      report.details[name] = { status: 'up' };
    } else {
      report.error[name] = { status: 'down' };
      report.details[name] = { status: 'down' };
      report.status = 'error';
    }
  });
  return report;
}

/** A Prometheus registry with the process metrics and the app name as a default label. */
export function createMetricsRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The small HTTP server of the MTA and the worker: `GET /health` (200, or 503 when a check
 * fails) and `GET /metrics` (Prometheus text format).
 */
export async function startOpsServer(options: {
  host: string;
  port: number;
  checks: Record<string, HealthCheck>;
  registry: Registry;
  /** Instead of running `checks` here (a cluster primary asks its workers). */
  health?: () => Promise<HealthReport>;
  /** Instead of `registry.metrics()` (a cluster primary aggregates its workers'). */
  metrics?: () => Promise<string>;
}): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && url === '/health') {
      const report = options.health ? await options.health() : await runHealthChecks(options.checks);
      res.writeHead(report.status === 'ok' ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(report));
      return;
    }
    if (req.method === 'GET' && url === '/metrics') {
      const body = options.metrics ? await options.metrics() : await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/problem+json' });
    res.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
