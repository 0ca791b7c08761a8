import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@mailroom/db';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { expectStatus, Session, type Client } from '@test/support/api';
import type { TestDatabase } from '@test/support/database';
import { startPgPair, type PgPair } from '@test/support/pg-replica';
import { Seeder } from '@test/support/smtp/seed';
import { printLedger } from '@test/faults/support/ledger';
import { auditInbound } from '@test/faults/support/inbound-check';
import {
  destinationZone,
  diagnose,
  metricValue,
  sendJobsInRedis,
  Sink,
  statusCounts,
  waitUntil,
} from '@test/faults/support/outbound';
import { burst, byClass, subjectOf, type BurstJob, type Outcome } from '@test/faults/support/smtp-burst';
import { lbRequest, startFleet, type Fleet } from './support/fleet';
import { pop3Look, submitMany, subjectsOverImap, topReceivedOverImap } from './support/mail-clients';
import { BALANCER_ADDRESS } from './support/haproxy';

const MESSAGES = 400;
const CONNECTIONS = 16;
/** mta-b gets kill -9 once this many messages have had their 250 through the balancer. */
const KILL_MTA_AFTER_ACKS = 120;
const RECIPIENTS = ['alice@acme.test', 'bob@acme.test'];
/** Submitted by carol through the balancer: two deliveries each, one per destination domain. */
const SUBMITTED = 60;
/** worker-a gets kill -9 at a 250 the sink writes to it once it has taken this many messages. */
const KILL_WORKER_AFTER_RECEIPTS = 20;
const PASSWORD = 'two of each pass phrase';
const STICKY_MS = 3_000;
const MAX_LAG_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => Math.round(ms / 100) / 10;

/**
 * Issue #17: docker-compose.yml's "scale" profile, run for real on this machine. Two each of
 * api, mta, imap and worker (built, each its own process) on a private PostgreSQL primary with
 * a streaming replica (DATABASE_REPLICA_URLS) and the Redis Cluster, behind Debian's HAProxy
 * with compose/haproxy.cfg's frontends and /health checks. Driven through the balancer only:
 * mailboxes made over the API, inbound mail with one MTA killed -9 mid-burst (the senders retry
 * what got no 250), every message read back over IMAP and POP3, submitted mail delivered to a
 * sink MX with one worker killed -9 mid-queue, and the API's list routes read from the replica
 * while each client reads its own writes.
 */
describe('scale: two of each app behind HAProxy, on the Redis Cluster and a primary with a replica', () => {
  let pair: PgPair;
  let prisma: PrismaClient;
  let dns: LocalDnsServer;
  let sink: Sink;
  const holder: { fleet?: Fleet } = {};
  let fleet: Fleet;
  let tenant: { id: string; rawKey: string; key: Client };

  beforeAll(async () => {
    const started = Date.now();
    pair = await startPgPair({ sync: false });
    const pairUp = Date.now();
    prisma = createPrismaClient({ url: pair.primaryUrl, poolSize: 2, applicationName: 'two-of-each-test' });
    dns = await LocalDnsServer.start(destinationZone(2));
    // One listener per worker; 250s and greetings held back a little, so the kill lands in a session.
    sink = await Sink.start({ listeners: 2, replyDelayMs: 200, greetingDelayMs: 200 });
    fleet = await startFleet(
      {
        primaryUrl: pair.primaryUrl,
        replicaUrl: pair.replicaUrl,
        dnsPort: dns.port,
        sinkPorts: [sink.ports[0]!, sink.ports[1]!],
        api: { DATABASE_REPLICA_STICKY_MS: String(STICKY_MS), DATABASE_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS) },
      },
      holder,
    );
    const fleetUp = Date.now();
    // A user's way in, over the balancer's API frontend: reseller, tenant, API key, mailboxes.
    // The domain is seeded as verified (DNS verification is the onboarding suite's).
    const db: TestDatabase = { name: 'mailroom', url: pair.primaryUrl, prisma, drop: async () => undefined };
    const session = await Session.create({ url: `http://127.0.0.1:${fleet.lb.fe.api}` }, db);
    const t = await session.newTenant(await session.newReseller());
    tenant = { id: t.id, rawKey: t.rawKey, key: t.key };
    await new Seeder(prisma).domain(tenant.id, 'acme.test');
    for (const localPart of ['alice', 'bob', 'carol']) {
      expectStatus(
        await tenant.key.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
          params: { path: { tenantId: tenant.id } },
          body: { localPart, domain: 'acme.test', password: PASSWORD },
        }),
        201,
      );
    }
    console.log(
      `[two-of-each] primary + replica ${seconds(pairUp - started)} s, eight apps and HAProxy ` +
        `${seconds(fleetUp - pairUp)} s, tenant and mailboxes ${seconds(Date.now() - fleetUp)} s`,
    );
  }, 240_000);
  afterAll(async () => {
    await holder.fleet?.stop();
    await sink?.close();
    await prisma?.$disconnect();
    await dns?.close();
    await pair?.stop();
  });

  // The outbound drill in two halves: the submissions and the kill first, the check last, so
  // the wait for BullMQ's stalled-job check (WORKER_LOCK_MS, 10 s here) overlaps the other phases.
  const outbound = { started: 0, accepted: 0, kill: { seq: 0, receipts: 0, at: 0 } };

  it('takes 60 submissions through the balancer while worker-a is killed -9 mid-queue', async () => {
    outbound.started = Date.now();
    const [a] = fleet.workers;
    const portA = sink.ports[0]!;
    const kill = outbound.kill;
    // kill -9 in the same tick as a 250 the sink writes to worker-a: it never reads that reply.
    sink.onReplied = (r) => {
      if (kill.seq > 0 || r.port !== portA || sink.on(portA).length < KILL_WORKER_AFTER_RECEIPTS) return;
      a!.proc.child.kill('SIGKILL');
      kill.seq = sink.tick();
      kill.receipts = sink.receipts;
      kill.at = Date.now();
    };
    const submitted = await submitMany(fleet.lb.fe.submissions, 'carol@acme.test', PASSWORD, SUBMITTED, 4);
    const refused = [...submitted.values()].filter((s) => !/^250 /.test(s.response));
    outbound.accepted = submitted.size - refused.length;
    expect(refused.map((s) => s.response)).toEqual([]);
    expect(submitted.size).toBe(SUBMITTED);
    await waitUntil('worker-a to be killed', async () => kill.seq > 0, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await diagnose(prisma, tenant.id, sink, fleet.workers)}`);
    });
    await a!.proc.exited;
    expect(a!.proc.child.signalCode).toBe('SIGKILL');
  }, 90_000);

  it('stores every acknowledged message once per recipient with an MTA killed -9 mid-burst, and serves them over IMAP and POP3', async () => {
    const started = Date.now();
    const [, mtaB] = fleet.mta;
    const jobs: BurstJob[] = Array.from({ length: MESSAGES }, (_, index) => ({ index, recipients: RECIPIENTS }));
    let acks = 0;
    let killedAt = 0;
    let kill: Promise<void> | null = null;
    const first = await burst({
      ports: [fleet.lb.fe.smtp],
      jobs,
      connections: CONNECTIONS,
      from: 'sender@client.test',
      pauseAfterFailureMs: 200,
      transactionTimeoutMs: 60_000,
      onOutcome: (o) => {
        if (o.code === 250 && ++acks === KILL_MTA_AFTER_ACKS) {
          killedAt = Date.now();
          kill = mtaB!.kill();
        }
      },
    });
    await kill;
    const killSignal = mtaB!.proc.child.signalCode;
    const phase1 = [...first.values()];
    const classes = byClass(phase1);
    const ackedAfterKill = phase1.filter((o) => o.code === 250 && o.at > killedAt).length;
    const afterKill = await auditInbound(prisma, tenant.id, jobs, phase1);
    // Committed by mta-b with the 250 still unsent when it died: the senders send them again.
    const committedWithout250 = phase1.filter((o) => o.code !== 250 && afterKill.copies.has(o.index));

    // The senders' queues retry whatever had no 250, through the balancer (mta-a only by now).
    const retry = jobs
      .map((j) => {
        const o = first.get(j.index);
        const left = o?.code === 250 ? j.recipients.filter((r) => !o.accepted.includes(r)) : j.recipients;
        return { index: j.index, recipients: left };
      })
      .filter((j) => j.recipients.length > 0);
    const second = await burst({ ports: [fleet.lb.fe.smtp], jobs: retry, connections: 4, from: 'sender@client.test' });
    const all: Outcome[] = [...phase1.filter((o) => o.code === 250), ...second.values()];
    const audit = await auditInbound(prisma, tenant.id, jobs, all);
    // The balancer's checks (inter 1s, fall 2) take the dead replica out of each frontend within
    // a few seconds of the kill; a burst can end sooner than that, so this waits for it (bounded).
    await fleet.lb.waitFor('DOWN', 'mta-b', 15_000).catch(() => undefined);
    const lbSawDown = (await fleet.lb.servers()).filter((s) => s.server === 'mta-b').map((s) => s.status);

    // An orchestrator starts the killed replica again; the balancer's check takes it back.
    await mtaB!.restart();
    await fleet.lb.waitFor('UP', 'mta-b');

    // Read back as mail clients do, through the balancer: every recipient's INBOX over IMAP.
    const seen = await Promise.all(RECIPIENTS.map((r) => subjectsOverImap(fleet.lb.fe.imaps, r, PASSWORD)));
    let readable = 0;
    let lost = 0;
    for (const job of jobs) {
      const copies = seen.map((s) => s.get(subjectOf(job.index)) ?? 0);
      if (copies.every((c) => c > 0)) readable++;
      RECIPIENTS.forEach((r, i) => {
        if (all.some((o) => o.index === job.index && o.code === 250 && o.accepted.includes(r)) && copies[i] === 0) {
          lost++;
        }
      });
    }
    const imapCopies = seen.reduce(
      (n, s) => n + [...s.entries()].filter(([k]) => k.startsWith('burst ')).reduce((a, [, c]) => a + c, 0),
      0,
    );
    // ... and once over POP3 (the balancer's pop3s frontend).
    const pop3 = await pop3Look(fleet.lb.fe.pop3s, RECIPIENTS[0]!, PASSWORD);
    // The MTAs saw the sender's own address (127.0.0.1) through the balancer's PROXY header, not
    // the balancer's (BALANCER_ADDRESS): what SPF, IP rules and per-IP limits act on.
    const received = await topReceivedOverImap(fleet.lb.fe.imaps, RECIPIENTS[0]!, PASSWORD);
    const imapLogins = await Promise.all(
      fleet.imap.map(async (i) =>
        metricValue(
          await (await fetch(`http://127.0.0.1:${i.env.IMAP_HEALTH_PORT}/metrics`)).text(),
          'mailroom_imap_logins_total',
          { result: 'ok' },
        ),
      ),
    );

    printLedger(
      {
        scenario: 'two-of-each-inbound',
        sent: MESSAGES,
        acknowledged: classes['250'],
        stored: audit.stored,
        delivered: readable,
        lost: audit.lost + lost,
        duplicates: audit.duplicates,
        committedWithout250: committedWithout250.length,
        replies4xx: classes['4xx'],
        replies5xx: classes['5xx'],
        noAnswer: classes.none,
        ackedAfterKill,
        retried: retry.length,
        retried250: byClass(second.values())['250'],
        imapCopies,
        pop3Count: pop3.count,
        imapLoginsA: imapLogins[0]!,
        imapLoginsB: imapLogins[1]!,
        mtaBAfterKill: lbSawDown.join('/'),
        partial: audit.partial,
        quotaDrift: audit.quotaDrift,
        seconds: seconds(Date.now() - started),
      },
      'scale-ledger',
    );
    expect(killedAt).toBeGreaterThan(0);
    expect(killSignal).toBe('SIGKILL');
    expect(ackedAfterKill).toBeGreaterThan(0);
    expect(classes['5xx']).toBe(0);
    expect(byClass(second.values())['250']).toBe(retry.length);
    expect(audit.lost).toBe(0);
    expect(lost).toBe(0);
    expect(audit.incomplete).toBe(0);
    expect(audit.partial).toBe(0);
    expect(audit.stored).toBe(MESSAGES);
    expect(readable).toBe(MESSAGES);
    // The only duplicates: messages mta-b had committed when it died, before its 250 went out.
    expect(audit.duplicates).toBe(committedWithout250.length * RECIPIENTS.length);
    expect(imapCopies).toBe(MESSAGES * RECIPIENTS.length + audit.duplicates);
    expect(audit.quotaDrift).toBe(0);
    expect(pop3.count).toBe([...seen[0]!.values()].reduce((a, b) => a + b, 0));
    expect(pop3.lastSubject).toMatch(/^burst \d+$/);
    expect(received).toContain('[127.0.0.1]');
    expect(received).not.toContain(BALANCER_ADDRESS);
    // smtp, submission and submissions: the balancer's checks took mta-b out of each.
    expect(lbSawDown).toEqual(['DOWN', 'DOWN', 'DOWN']);
    expect(fleet.mta[0]!.proc.child.exitCode, fleet.mta[0]!.proc.output()).toBeNull();
  }, 150_000);

  it('both API processes answer list routes from the replica, and a client reads its own writes through the balancer', async () => {
    const lb = fleet.lb.fe.api;
    const list = async (source: string) => {
      const r = await lbRequest<{ items: { localPart: string }[] }>(
        lb,
        source,
        'GET',
        `/v1/tenants/${tenant.id}/mailboxes`,
        tenant.rawKey,
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return { backend: r.backend, names: r.body.items.map((m) => m.localPart) };
    };
    const create = async (source: string, localPart: string) => {
      const r = await lbRequest(lb, source, 'POST', `/v1/tenants/${tenant.id}/mailboxes`, tenant.rawKey, {
        localPart,
        domain: 'acme.test',
        password: PASSWORD,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.backend;
    };
    // Two clients (loopback source addresses) that `balance source` sends to different processes.
    const sources = new Map<string, string>();
    for (let n = 2; n < 60 && sources.size < 2; n++) {
      const source = `127.0.0.${n}`;
      const { backend } = await lbRequest(lb, source, 'GET', '/health');
      if (backend && !sources.has(backend)) sources.set(backend, source);
    }
    expect([...sources.keys()].sort()).toEqual(['api-a', 'api-b']);
    const srcA = sources.get('api-a')!;
    const srcB = sources.get('api-b')!;
    await sleep(STICKY_MS + 200);
    for (const source of [srcA, srcB]) {
      expect((await list(source)).names).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
    }

    const replica = new pg.Client({ connectionString: pair.replicaUrl });
    await replica.connect();
    try {
      // A fresh commit replayed, then replay paused: from here the replica falls behind.
      await prisma.$executeRawUnsafe('SELECT txid_current()');
      await sleep(300);
      await replica.query('SELECT pg_wal_replay_pause()');
      const paused = Date.now();
      const t0 = Date.now();
      expect(await create(srcA, 'dave')).toBe('api-a');
      const t1 = Date.now();
      const readOwn = await list(srcA);
      const t2 = Date.now();
      const otherClient = await list(srcB);
      expect(await create(srcB, 'erin')).toBe('api-b');
      const readOwnB = await list(srcB);
      await sleep(STICKY_MS + 300);
      const aAfterSticky = await list(srcA);
      const pausedMs = Date.now() - paused;
      await replica.query('SELECT pg_wal_replay_resume()');
      // Read-your-write through the balancer: each client lands on the process that took its write.
      expect(readOwn, `create ${t1 - t0} ms, list ${t2 - t1} ms`).toEqual({
        backend: 'api-a',
        names: expect.arrayContaining(['dave']) as unknown,
      });
      expect(readOwnB).toEqual({ backend: 'api-b', names: expect.arrayContaining(['erin']) as unknown });
      // The other process, with no write of this tenant in its window, reads the stale replica.
      expect(otherClient.backend).toBe('api-b');
      expect(otherClient.names).not.toContain('dave');
      expect(aAfterSticky.backend).toBe('api-a');
      expect(aAfterSticky.names).not.toContain('erin');
      expect(pausedMs).toBeLessThan(MAX_LAG_MS);
      await expect
        .poll(
          async () =>
            [...(await list(srcA)).names, ...(await list(srcB)).names].filter((n) => n === 'dave' || n === 'erin')
              .length,
          {
            timeout: 20_000,
            interval: 250,
          },
        )
        .toBe(4);
    } finally {
      await replica.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
      await replica.end();
    }
    for (const p of fleet.all()) {
      if (p.name === 'worker-a') continue;
      expect(p.proc.child.exitCode, `${p.name}: ${p.proc.output().slice(-2000)}`).toBeNull();
    }
  });

  it("delivers every submission to the remote once worker-b has taken over; duplicates only from worker-a's open sessions", async () => {
    const [a, b] = fleet.workers as [Fleet['workers'][0], Fleet['workers'][0]];
    const [portA, portB] = sink.ports as [number, number];
    const kill = outbound.kill;
    expect(kill.seq).toBeGreaterThan(0);
    // worker-b alone: what worker-a held in Redis comes back after BullMQ's stalled check; what it
    // had claimed stays 'sending' in PostgreSQL (did the remote take it?) until the stuck sweep.
    const prefix = a.env.QUEUE_PREFIX!;
    const redis = Object.fromEntries(Object.entries(a.env).filter(([k]) => k.startsWith('REDIS_')));
    await waitUntil(
      'worker-b to drain the queue',
      async () => {
        const s = await statusCounts(prisma, tenant.id);
        if ((s.queued ?? 0) + (s.deferred ?? 0) > 0) return false;
        return (await sendJobsInRedis(redis, prefix)).total === 0;
      },
      90_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await diagnose(prisma, tenant.id, sink, [b])}`);
    });
    const drainedAt = Date.now();
    const stuck = await prisma.delivery.findMany({
      where: { tenantId: tenant.id, status: 'sending' },
      select: { id: true },
    });
    const stuckIds = new Set(stuck.map((d) => d.id));
    const takenFromA = new Set(sink.on(portA).map((r) => r.id));
    const window = [...stuckIds].filter((id) => takenFromA.has(id));
    // The sweep hands stuck rows out after 15 minutes (no setting): the test moves their clock.
    await prisma.$executeRaw`
      UPDATE deliveries SET last_attempt_at = last_attempt_at - interval '16 minutes'
      WHERE tenant_id = ${tenant.id}::uuid AND status = 'sending'`;
    const expected = outbound.accepted * 2;
    await waitUntil(
      'every delivery delivered',
      async () => ((await statusCounts(prisma, tenant.id)).delivered ?? 0) === expected,
      60_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await diagnose(prisma, tenant.id, sink, [b])}`);
    });
    const ids = (await prisma.delivery.findMany({ where: { tenantId: tenant.id }, select: { id: true } })).map(
      (d) => d.id,
    );
    const lost = ids.filter((id) => !sink.counts.has(id)).length;
    const duplicated = sink.duplicated();
    printLedger(
      {
        scenario: 'two-of-each-outbound',
        sent: expected,
        acknowledged: sink.acknowledged(),
        stored: (await statusCounts(prisma, tenant.id)).delivered ?? 0,
        delivered: sink.counts.size,
        lost,
        duplicates: sink.duplicates(),
        submitted: SUBMITTED,
        submissionsAccepted: outbound.accepted,
        receiptsAtKill: kill.receipts,
        stuckInSendingAfterKill: stuckIds.size,
        takenByRemoteBeforeKill: window.length,
        sentByA: sink.on(portA).length,
        sentByB: sink.on(portB).length,
        secondsKillToDrained: seconds(drainedAt - kill.at),
        seconds: seconds(Date.now() - outbound.started),
      },
      'scale-ledger',
    );
    expect(await prisma.delivery.count({ where: { tenantId: tenant.id } })).toBe(expected);
    expect(lost).toBe(0);
    expect(sink.counts.size).toBe(expected);
    // Duplicates only where worker-a died with the remote's copy taken and its row still 'sending'.
    expect(duplicated.filter((id) => !window.includes(id))).toEqual([]);
    expect(sink.on(portB).length).toBeGreaterThan(0);
    expect(b.proc.child.exitCode, b.proc.output()).toBeNull();
  }, 150_000);
});
