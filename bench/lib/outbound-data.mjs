// Rows and messages for bench/outbound.mjs: the sending tenant with its DKIM key, a backlog of
// queued deliveries inserted in bulk, one submission at a time (the rows SubmissionStore
// commits for an external recipient, in one transaction), and the open-loop producer.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { root, sleep } from './report.mjs';

const require = createRequire(import.meta.url);
export const dist = (p) => require(path.join(root, 'dist', p));

export const SENDER_DOMAIN = 'sender.bench.test';
export const now = () => performance.timeOrigin + performance.now();

/** Recipient n: r<n>@d<n % domains>.dest.bench.test (the sink parses n to pick who it defers). */
export const recipient = (n, domains) => `r${n}@d${n % domains}.dest.bench.test`;

/** A ~5 KB text message to recipient n, random body so every blob is distinct. */
export function message(n, domains) {
  const body = [];
  for (let size = 0; size < 5 * 1024; size += 78) body.push(randomBytes(57).toString('base64'));
  return Buffer.from(
    [
      `From: Alice <alice@${SENDER_DOMAIN}>`,
      `To: <${recipient(n, domains)}>`,
      `Subject: outbound bench #${n}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${randomBytes(8).toString('hex')}@${SENDER_DOMAIN}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      body.join('\r\n'),
      '',
    ].join('\r\n'),
  );
}

/** The sending tenant and its active sender domain with a DKIM key sealed under `masterKey`. */
export async function seedSender(url, masterKey) {
  const { createPrismaClient } = dist('libs/db/src/index.js');
  const { newDkimKey } = dist('libs/onboarding/src/add-domain.js');
  const prisma = createPrismaClient({ url, poolSize: 2, applicationName: 'bench-seed' });
  try {
    const tenant = await prisma.tenant.create({ data: { name: 'bench outbound' } });
    const domain = await prisma.domain.create({
      data: {
        tenantId: tenant.id,
        name: SENDER_DOMAIN,
        unicodeName: SENDER_DOMAIN,
        ownershipToken: 't',
        status: 'active',
      },
    });
    const key = await newDkimKey(masterKey, new Date(), []);
    await prisma.dkimKey.create({
      data: { tenantId: tenant.id, domainId: domain.id, ...key, status: 'active', activatedAt: new Date() },
    });
    return tenant.id;
  } finally {
    await prisma.$disconnect();
  }
}

/** `count` queued deliveries (one per message) inserted in bulk; returns their ids in order. */
export async function seedBacklog(client, tenantId, { count, domains }) {
  for (let start = 0; start < count; start += 500) {
    const ns = Array.from({ length: Math.min(500, count - start) }, (_, i) => start + i);
    const blobs = ns.map((n) => message(n, domains));
    await client.query(
      `WITH b AS (
         INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
         SELECT $1, unnest($2::text[]), unnest($3::int[]), unnest($4::bytea[]) RETURNING sha256, size),
       o AS (
         INSERT INTO outbound_messages (tenant_id, kind, envelope_from, from_domain, subject, blob_sha256, size)
         SELECT $1, 'submission', 'alice@${SENDER_DOMAIN}', '${SENDER_DOMAIN}', 'outbound bench', sha256, size FROM b
         RETURNING id, blob_sha256)
       INSERT INTO deliveries (tenant_id, outbound_message_id, recipient, recipient_domain, status, expires_at)
       SELECT $1, o.id, r.rcpt, split_part(r.rcpt, '@', 2), 'queued', now() + interval '5 days'
       FROM o JOIN unnest($2::text[], $5::text[]) AS r(sha256, rcpt) ON r.sha256 = o.blob_sha256`,
      [
        tenantId,
        blobs.map((b) => createHash('sha256').update(b).digest('hex')),
        blobs.map((b) => b.length),
        blobs,
        ns.map((n) => recipient(n, domains)),
      ],
    );
  }
  await client.query('ANALYZE');
  const { rows } = await client.query(
    `SELECT id, recipient FROM deliveries WHERE tenant_id = $1 ORDER BY split_part(substring(recipient from 2), '@', 1)::int`,
    [tenantId],
  );
  return rows.map((r) => ({ tenantId, deliveryId: r.id, recipient: r.recipient }));
}

/**
 * One submitted message to recipient n, committed as SubmissionStore does for an external
 * recipient (blob, outbound message, queued delivery, its 'queued' event) in one statement, so
 * one round trip and one transaction. Returns the job payload.
 */
export async function submitOne(pool, tenantId, n, domains) {
  const bytes = message(n, domains);
  const to = recipient(n, domains);
  const { rows } = await pool.query(
    `WITH b AS (
       INSERT INTO message_blobs (tenant_id, sha256, size, bytes) VALUES ($1, $2, $3, $4) RETURNING sha256, size),
     o AS (
       INSERT INTO outbound_messages (tenant_id, kind, envelope_from, from_domain, subject, blob_sha256, size)
       SELECT $1, 'submission', 'alice@${SENDER_DOMAIN}', '${SENDER_DOMAIN}', 'outbound bench', sha256, size FROM b
       RETURNING id),
     d AS (
       INSERT INTO deliveries (tenant_id, outbound_message_id, recipient, recipient_domain, status, expires_at)
       SELECT $1, o.id, $5, split_part($5, '@', 2), 'queued', now() + interval '5 days' FROM o RETURNING id),
     e AS (INSERT INTO delivery_events (tenant_id, delivery_id, type) SELECT $1, id, 'queued' FROM d)
     SELECT id FROM d`,
    [tenantId, createHash('sha256').update(bytes).digest('hex'), bytes.length, bytes, to],
  );
  return { tenantId, deliveryId: rows[0].id };
}

/** Removes every outbound row, so each target of a rate run starts from the same tables. */
export async function clearOutbound(client) {
  await client.query('DELETE FROM delivery_events');
  await client.query('DELETE FROM deliveries');
  await client.query('DELETE FROM outbound_messages');
  await client.query('DELETE FROM message_blobs');
  await client.query('VACUUM ANALYZE message_blobs, outbound_messages, deliveries, delivery_events');
}

/** Puts every delivery back to queued with no history, for the next target of a backlog run. */
export async function resetDeliveries(client) {
  await client.query('DELETE FROM delivery_events');
  await client.query(
    `UPDATE deliveries SET status = 'queued', attempts = 0, next_attempt_at = now(), last_attempt_at = NULL,
       last_response = NULL, last_response_code = NULL, remote_host = NULL, delivered_at = NULL, updated_at = now()`,
  );
  await client.query('VACUUM ANALYZE deliveries, delivery_events');
}

/**
 * Calls `submit(i)` for i = 0 … rate × seconds - 1 at a fixed open rate: message i is due at
 * start + i / rate whatever happened to the earlier ones. At most `maxInFlight` submissions run
 * at once; when the producer itself cannot keep up, the achieved rate shows it.
 */
export async function openLoop({ rate, seconds, maxInFlight = 50, submit }) {
  const total = Math.round(rate * seconds);
  const inFlight = new Set();
  const started = now();
  let errors = 0;
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - now();
    if (wait >= 1) await sleep(wait);
    const p = submit(i)
      .catch(() => errors++)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return { submitted: total, errors, seconds: (now() - started) / 1000 };
}
