import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { SMTPServer } from 'smtp-server';
import type { PrismaClient } from '@mailroom/db';
import { parseVerpLocalPart } from '@mailroom/mail';
import { bullPrefix, JobName, JobProducer, QueueName } from '@mailroom/queue';
import { APP_ENTRY, appEnv, freePort, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';
import { clusterMode, connectRedis, startRedisCluster } from '@test/support/redis-cluster';

/** One message the sink took, in the order of the sink's own log. */
export interface Receipt {
  /** The delivery named by the VERP envelope sender (the first of the transaction's batch). */
  id: string;
  /** The listener it came in on: a scenario can give each worker a port of its own. */
  port: number;
  /** Position in the sink's log when the final dot arrived (the remote's commit). */
  seq: number;
  /** Position in the log when the 250 was written; null while held back, or never written. */
  repliedSeq: number | null;
  /** The 250 was written to a connection that was still open. */
  acknowledged: boolean;
}

/**
 * The remote MX: counts every message it takes per delivery id (read from the VERP envelope
 * sender, one delivery per transaction here) and keeps a log of receipts. A receipt is counted
 * when the final dot arrives, i.e. when a real MTA would commit; `replyDelayMs` then holds the
 * 250 back (a random time up to it), which widens the window in which a worker can die after the
 * remote took the message; `greetingDelayMs` holds the greeting back the same way, so sessions
 * are spread over both. `listeners` ports share one ledger: a scenario that points each worker
 * at a port of its own (SMTP_DELIVERY_PORT) can tell which worker sent what. `onReplied` runs
 * right after a 250 was handed to the socket, in the same tick.
 */
export class Sink {
  readonly counts = new Map<string, number>();
  readonly log: Receipt[] = [];
  receipts = 0;
  /** Connections that ended in an error (a reset by a killed client). */
  connectionErrors = 0;
  onReplied: ((receipt: Receipt) => void) | undefined;
  private seq = 0;

  private constructor(
    private readonly servers: SMTPServer[],
    readonly ports: number[],
  ) {}

  /** The first listener's port. */
  get port(): number {
    return this.ports[0]!;
  }

  /** The next position in the log (also for events of the test's own, e.g. a kill). */
  tick(): number {
    return ++this.seq;
  }

  static async start(
    options: { listeners?: number; replyDelayMs?: number; greetingDelayMs?: number } = {},
  ): Promise<Sink> {
    let self: Sink | null = null;
    const servers: SMTPServer[] = [];
    const ports: number[] = [];
    for (let n = 0; n < (options.listeners ?? 1); n++) {
      const port = await freePort();
      const closed = new Set<string>();
      const server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        maxClients: 500,
        onConnect(_session, callback) {
          setTimeout(() => callback(), Math.random() * (options.greetingDelayMs ?? 0));
        },
        onClose(session) {
          closed.add(session.id);
        },
        onData(stream, session, callback) {
          stream.on('data', () => undefined);
          stream.on('end', () => {
            const sink = self!;
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            const verp = parseVerpLocalPart(from.slice(0, from.lastIndexOf('@')));
            const id = verp?.deliveryId ?? `unknown:${from}`;
            sink.counts.set(id, (sink.counts.get(id) ?? 0) + 1);
            sink.receipts++;
            const receipt: Receipt = { id, port, seq: sink.tick(), repliedSeq: null, acknowledged: false };
            sink.log.push(receipt);
            setTimeout(
              () => {
                receipt.repliedSeq = sink.tick();
                receipt.acknowledged = !closed.has(session.id);
                callback();
                sink.onReplied?.(receipt);
              },
              Math.random() * (options.replyDelayMs ?? 0),
            );
          });
        },
      });
      // A worker killed with our 250 unread resets its connections (ECONNRESET): the sink counts
      // them; an 'error' event without a listener would be an uncaught exception in the test.
      server.on('error', () => {
        if (self) self.connectionErrors++;
      });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      servers.push(server);
      ports.push(port);
    }
    self = new Sink(servers, ports);
    return self;
  }

  /** Copies beyond the first, over all delivery ids. */
  duplicates(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c - 1;
    return n;
  }

  /** Delivery ids taken more than once. */
  duplicated(): string[] {
    return [...this.counts].filter(([, c]) => c > 1).map(([id]) => id);
  }

  /** Receipts that came in on `port`. */
  on(port: number): Receipt[] {
    return this.log.filter((r) => r.port === port);
  }

  /** 250s written to an open connection. */
  acknowledged(): number {
    return this.log.filter((r) => r.acknowledged).length;
  }

  close(): Promise<void> {
    return Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(
      () => undefined,
    );
  }
}

/** The zone that points dest0..destN at the sink's address (the port comes from config). */
export function destinationZone(domains: number): string {
  const lines = ['sink.dest.test. 60 IN A 127.0.0.1'];
  for (let d = 0; d < domains; d++) lines.push(`dest${d}.example. 60 IN MX 10 sink.dest.test.`);
  return lines.join('\n');
}

/**
 * `count` outbound messages from one tenant, one queued delivery each, spread over `domains`
 * recipient domains; returns the tenant id and the delivery ids.
 */
export async function seedDeliveries(
  prisma: PrismaClient,
  count: number,
  domains: number,
  recipientDomain: (i: number) => string = (i) => `dest${i % domains}.example`,
): Promise<{ tenantId: string; ids: string[] }> {
  const tenant = await prisma.tenant.create({ data: { name: `Fault sender ${randomBytes(3).toString('hex')}` } });
  const tenantId = tenant.id;
  await prisma.domain.create({
    data: { tenantId, name: 'sender.example', unicodeName: 'sender.example', ownershipToken: 't', status: 'active' },
  });
  const raw = Buffer.from(
    'From: Fault <noreply@sender.example>\r\nTo: someone@dest.example\r\nSubject: fault injection\r\n' +
      `Message-ID: <${randomBytes(6).toString('hex')}@sender.example>\r\nDate: ${new Date().toUTCString()}\r\n\r\nHello.\r\n`,
  );
  const sha256 = createHash('sha256').update(raw).digest('hex');
  await prisma.messageBlob.create({ data: { tenantId, sha256, size: raw.length, bytes: raw } });
  const messages = Array.from({ length: count }, () => randomUUID());
  const ids = Array.from({ length: count }, () => randomUUID());
  await prisma.outboundMessage.createMany({
    data: messages.map((id) => ({
      tenantId,
      id,
      kind: 'submission' as const,
      envelopeFrom: 'noreply@sender.example',
      fromDomain: 'sender.example',
      subject: 'fault injection',
      blobSha256: sha256,
      size: raw.length,
    })),
  });
  await prisma.delivery.createMany({
    data: ids.map((id, i) => ({
      tenantId,
      id,
      outboundMessageId: messages[i]!,
      recipient: `r${i}@${recipientDomain(i)}`,
      recipientDomain: recipientDomain(i),
      expiresAt: new Date(Date.now() + 86_400_000),
    })),
  });
  return { tenantId, ids };
}

/**
 * Queues one deliveries.send job per delivery, as the MTA and the API do after their commit.
 * `redis`: REDIS_URL (and REDIS_CLUSTER_NODES) as the apps get them.
 */
export async function queueDeliveries(
  redis: Record<string, string>,
  queuePrefix: string,
  tenantId: string,
  ids: string[],
): Promise<void> {
  const connection = connectRedis(redis);
  const producer = new JobProducer(connection, queuePrefix);
  try {
    for (const deliveryId of ids) await producer.add(JobName.DeliverySend, { tenantId, deliveryId });
  } finally {
    await producer.close();
    connection.disconnect();
  }
}

/** deliveries.send jobs in Redis by state (waiting includes prioritized). */
export interface SendJobs {
  waiting: number;
  active: number;
  delayed: number;
  total: number;
}

/** Reads the deliveries queue of a prefix: which deliveries.send jobs Redis holds right now. */
export async function sendJobsInRedis(redis: Record<string, string>, queuePrefix: string): Promise<SendJobs> {
  const connection = connectRedis(redis);
  const prefix = bullPrefix(queuePrefix, connection, QueueName.Deliveries);
  const queue = new Queue(QueueName.Deliveries, { connection, prefix });
  try {
    const count = async (states: ('wait' | 'prioritized' | 'active' | 'delayed')[]) =>
      (await queue.getJobs(states)).filter((j) => j?.name === JobName.DeliverySend).length;
    const waiting = await count(['wait', 'prioritized']);
    const active = await count(['active']);
    const delayed = await count(['delayed']);
    return { waiting, active, delayed, total: waiting + active + delayed };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

export interface WorkerProcess {
  name: string;
  proc: RunningProcess;
  pid: number;
  env: Record<string, string>;
  /**
   * GET /health on WORKER_HEALTH_PORT: the HTTP status (0 when no answer came within
   * `timeoutMs`) and how long the answer took.
   */
  health(timeoutMs?: number): Promise<{ status: number; ms: number }>;
  /** GET /metrics: the sum of the samples of `name` whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** VmRSS from /proc/<pid>/status, in bytes (what the kernel says, not what the process says). */
  rssBytes(): number;
  /** kill -9, then waits for the exit. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The built worker (dist/apps/worker/src/main.js) as its own process, the way operators run it,
 * configured only through the environment libs/config reads; waits for its /health to answer 200.
 */
export async function startWorker(
  name: string,
  databaseUrl: string,
  settings: Record<string, string>,
  /** How long the boot may take until /health answers 200 (many processes starting at once take longer). */
  bootTimeoutMs = 60_000,
): Promise<WorkerProcess> {
  const env = await appEnv(databaseUrl, { LOG_LEVEL: 'warn', ...settings });
  const proc = runNode(APP_ENTRY.worker, [], env);
  const base = `http://127.0.0.1:${env.WORKER_HEALTH_PORT}`;
  try {
    await waitForHttp(`${base}/health`, proc, bootTimeoutMs, 200);
  } catch (err) {
    // Say which check failed, and never leave a half-started worker behind.
    const body = await fetch(`${base}/health`, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.text(),
      (e: unknown) => String(e),
    );
    await proc.stop();
    throw new Error(`${name} did not become healthy (${body}): ${String(err)}`);
  }
  return {
    name,
    proc,
    pid: proc.child.pid!,
    env,
    health: async (timeoutMs = 10_000) => {
      const started = Date.now();
      try {
        const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(timeoutMs) });
        await res.arrayBuffer();
        return { status: res.status, ms: Date.now() - started };
      } catch {
        return { status: 0, ms: Date.now() - started };
      }
    },
    metric: async (metricName, labels = {}) => {
      const text = await (await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
      return metricValue(text, metricName, labels);
    },
    rssBytes: () => {
      const status = fs.readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
      if (!kb) throw new Error(`no VmRSS for ${name} (pid ${proc.child.pid})`);
      return Number(kb) * 1024;
    },
    kill: async () => {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    stop: () => proc.stop(),
  };
}

/** Sums the samples of one metric in Prometheus text whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Send jobs a worker finished, deliveries.send and deliveries.retry (its own counter: a killed worker's is gone with it). */
export async function sendJobsCompleted(worker: WorkerProcess): Promise<number> {
  const completed = (job: JobName) => worker.metric('mailroom_jobs_total', { job, outcome: 'completed' });
  return (await completed(JobName.DeliverySend)) + (await completed(JobName.DeliveryRetry));
}

export interface RestartableRedis {
  url: string;
  port: number;
  /** REDIS_URL (and REDIS_CLUSTER_NODES) for an app environment. */
  env: Record<string, string>;
  /** kill -9 and start again on the same port: no persistence, so it comes back empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private redis-server like test/support startRedis(), but restartable on the same port (the
 * workers keep their URL and reconnect): what a Redis failover without persistence looks like.
 * Under `npm run test:scale` a private Redis Cluster, whose restart kills all six nodes.
 */
export async function startRestartableRedis(): Promise<RestartableRedis> {
  if (clusterMode()) return startRedisCluster();
  const port = await freePort();
  let child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const up = async () => {
    const deadline = Date.now() + 10_000;
    while (!(await canConnect(port))) {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await sleep(50);
    }
  };
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  await up();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    restart: async () => {
      await kill();
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      await up();
    },
    stop: kill,
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` until it returns true; throws with `what` after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Delivery rows by status for one tenant. */
export async function statusCounts(prisma: PrismaClient, tenantId: string): Promise<Record<string, number>> {
  const rows = await prisma.delivery.groupBy({ by: ['status'], where: { tenantId }, _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
}

/**
 * Waits for every start, keeps the processes that did start in `into` (so afterAll stops them)
 * and then throws the first failure: a failed start never leaves a process behind.
 */
export async function startAll<T>(starts: Promise<T>[], into: T[]): Promise<T[]> {
  const settled = await Promise.allSettled(starts);
  const started: T[] = [];
  for (const s of settled) if (s.status === 'fulfilled') started.push(s.value);
  into.push(...started);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return started;
}

/** What a stuck run left: statuses, the undelivered rows (did the sink get them?), worker errors. */
export async function diagnose(
  prisma: PrismaClient,
  tenantId: string,
  sink: Sink,
  workers: WorkerProcess[],
): Promise<string> {
  const open = await prisma.delivery.findMany({
    where: { tenantId, status: { not: 'delivered' } },
    select: { id: true, status: true, attempts: true, lastAttemptAt: true, lastResponse: true },
  });
  const rows = open.map((d) => ({ ...d, atSink: sink.counts.get(d.id) ?? 0 }));
  const errors = workers.map(
    (w) =>
      `--- ${w.name} (exit ${w.proc.child.exitCode})\n` +
      w.proc
        .output()
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l) || (l !== '' && !l.startsWith('{')))
        .slice(0, 20)
        .join('\n'),
  );
  return `${JSON.stringify(await statusCounts(prisma, tenantId))}\n${JSON.stringify(rows, null, 1)}\n${errors.join('\n')}`;
}
