import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import type { PrismaClient } from '@mailroom/db';
import { parseVerpLocalPart } from '@mailroom/mail';
import { appEnv, freePort, runNode, type RunningProcess } from '../../support/processes';

/**
 * The remote MX: counts every message it takes per delivery id (read from the VERP envelope
 * sender, one delivery per message here). A receipt is counted when the final dot arrives,
 * i.e. when a real MTA would commit; `replyDelayMs` then holds the 250 back (a random time up to
 * it), which widens the window in which a worker can die after the remote took the message;
 * `greetingDelayMs` holds the greeting back the same way, so sessions are spread over both.
 */
export class Sink {
  readonly counts = new Map<string, number>();
  receipts = 0;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(options: { replyDelayMs?: number; greetingDelayMs?: number } = {}): Promise<Sink> {
    let self: Sink | null = null;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      maxClients: 500,
      onConnect(_session, callback) {
        setTimeout(() => callback(), Math.random() * (options.greetingDelayMs ?? 0));
      },
      onData(stream, session, callback) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          const verp = parseVerpLocalPart(from.slice(0, from.lastIndexOf('@')));
          const id = verp?.deliveryId ?? `unknown:${from}`;
          self!.counts.set(id, (self!.counts.get(id) ?? 0) + 1);
          self!.receipts++;
          setTimeout(() => callback(), Math.random() * (options.replyDelayMs ?? 0));
        });
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    self = new Sink(server, port);
    return self;
  }

  duplicates(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c - 1;
    return n;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
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

export interface WorkerPing {
  inFlight: number;
  processed: number;
  rssBytes: number;
}

export interface WorkerProcess {
  name: string;
  proc: RunningProcess;
  pingPort: number;
  ping(): Promise<WorkerPing>;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** One delivery worker process (support/delivery-worker.mjs over dist/). */
export async function startWorker(
  name: string,
  databaseUrl: string,
  settings: Record<string, string>,
): Promise<WorkerProcess> {
  const pingPort = await freePort();
  const env = await appEnv(databaseUrl, {
    LOG_LEVEL: 'error',
    FAULT_NAME: name,
    FAULT_PING_PORT: String(pingPort),
    ...settings,
  });
  const proc = runNode('test/faults/support/delivery-worker.mjs', [], env);
  const deadline = Date.now() + 30_000;
  while (!proc.output().includes('"event":"ready"')) {
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${name} did not start:\n${proc.output()}`);
    }
    await sleep(100);
  }
  return {
    name,
    proc,
    pingPort,
    ping: async () => (await fetch(`http://127.0.0.1:${pingPort}/`)).json() as Promise<WorkerPing>,
    kill: async () => {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    stop: () => proc.stop(),
  };
}

export interface RestartableRedis {
  url: string;
  port: number;
  /** kill -9 and start again on the same port: no persistence, so it comes back empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private redis-server like test/support startRedis(), but restartable on the same port (the
 * workers keep their URL and reconnect): what a Redis failover without persistence looks like.
 */
export async function startRestartableRedis(): Promise<RestartableRedis> {
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
