// The IMAP benchmark's fixtures, written to both servers in one pass so they hold the same mail:
// Mailroom's database in bulk SQL (blobs and message rows by the thousand, then each folder's
// uid_next/highest_modseq and each mailbox's used_bytes/message_count set to what the rows say,
// as MailStore.append would have left them: message uid u has modseq u + 1), and Dovecot's
// Maildirs as files (bench/lib/dovecot.mjs), with the same UIDs, flags and internal dates.
//
// Users (one tenant, domain imap.bench.test):
//   bench@   INBOX: the search corpus (searchCount small messages), Fetch: fetchCount mixed ones
//   loginN@  for the login rate, an INBOX of 5 messages, full-cost argon2id hash
//   idleN@   for the IDLE sessions (10 per user), an INBOX of 20 messages, a cheap argon2id hash
//            (m=1 MiB, t=1) so opening 5,000 sessions measures memory, not password hashing
import { createRequire } from 'node:module';
import pg from 'pg';
import { corpusFlags, corpusMessage, SEARCH_TERMS, sinceDate } from './imap-corpus.mjs';
import { openMaildir } from './dovecot.mjs';

const require = createRequire(import.meta.url);
const argon2 = require('argon2');

export const DOMAIN = 'imap.bench.test';
export const PASSWORD = 'bench imap passphrase 2026';
const BATCH = 1000;

/**
 * argon2id at node-argon2's default cost (m=64 MiB, t=3) with parallelism 1 instead of 4: the
 * only form libsodium, and so Dovecot, verifies. Mailroom verifies either.
 */
export function fullHash() {
  return argon2.hash(PASSWORD, { type: argon2.argon2id, parallelism: 1 });
}

function cheapHash() {
  return argon2.hash(PASSWORD, { type: argon2.argon2id, parallelism: 1, memoryCost: 1024, timeCost: 1 });
}

class MailroomFixtures {
  constructor(client) {
    this.client = client;
  }

  /** Whether the schema has the SEARCH columns the worker's parse fills (migration imap_read_api). */
  async detectSearchColumns() {
    const { rows } = await this.client.query(
      `SELECT count(*)::int AS n FROM information_schema.columns
       WHERE table_name = 'messages' AND column_name IN ('search_headers', 'search_body')`,
    );
    this.searchColumns = rows[0].n === 2;
  }

  /**
   * Drops the GIN (trigram) indexes of messages for the bulk load and returns a function that
   * builds them again from their own definitions: one CREATE INDEX is many times faster than
   * 100,000 GIN insertions, and the database ends up the same.
   */
  async suspendGinIndexes() {
    const { rows } = await this.client.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messages' AND indexdef ILIKE '% USING gin %'`,
    );
    for (const r of rows) await this.client.query(`DROP INDEX "${r.indexname}"`);
    return async () => {
      await this.client.query(`SET maintenance_work_mem = '256MB'`);
      for (const r of rows) await this.client.query(r.indexdef);
    };
  }

  async tenant() {
    const { rows } = await this.client.query(
      `INSERT INTO tenants (name, max_domains, max_mailboxes, storage_quota_bytes)
       VALUES ('bench imap', 10, 1000000, 1125899906842624) RETURNING id`,
    );
    this.tenantId = rows[0].id;
    const d = await this.client.query(
      `INSERT INTO domains (tenant_id, name, unicode_name, ownership_token, status, verified_at, activated_at)
       VALUES ($1, $2, $2, md5($2), 'active', now(), now()) RETURNING id`,
      [this.tenantId, DOMAIN],
    );
    this.domainId = d.rows[0].id;
  }

  async mailbox(local, hash) {
    const { rows } = await this.client.query(
      `INSERT INTO mailboxes (tenant_id, domain_id, local_part, password_hash, quota_bytes)
       VALUES ($1, $2, $3, $4, 107374182400) RETURNING id`,
      [this.tenantId, this.domainId, local, hash],
    );
    return rows[0].id;
  }

  async folder(mailboxId, name, kind) {
    const { rows } = await this.client.query(
      `INSERT INTO folders (tenant_id, mailbox_id, name, kind) VALUES ($1, $2, $3, $4::"FolderKind") RETURNING id`,
      [this.tenantId, mailboxId, name, kind],
    );
    return rows[0].id;
  }

  /** Messages `firstUid`.. of a folder (blobs deduplicated by hash, as the store does). */
  async messages(mailboxId, folderId, firstUid, msgs) {
    await this.client.query(
      `INSERT INTO message_blobs (tenant_id, sha256, size, storage, bytes)
       SELECT $1::uuid, s, z, 'db', b FROM unnest($2::text[], $3::int[], $4::bytea[]) AS t(s, z, b)
       ON CONFLICT DO NOTHING`,
      [this.tenantId, msgs.map((m) => m.sha256), msgs.map((m) => m.size), msgs.map((m) => m.raw)],
    );
    // Rows as the store leaves them once the worker has parsed them: parse_status 'parsed' and,
    // when the schema has them, the SEARCH columns filled.
    const search = this.searchColumns;
    await this.client.query(
      `INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, modseq, size, flags,
         envelope_from, envelope_to, message_id_header, subject, from_address, from_name, to_addresses,
         sent_at, has_attachments, parse_status, received_at${search ? ', search_headers, search_body' : ''})
       SELECT $1::uuid, $2::uuid, $3::uuid, s, u, u + 1, z,
         CASE WHEN f = '' THEN '{}'::text[] ELSE string_to_array(f, ' ') END,
         fa, $5, mid, subj, fa, fn, ARRAY[$5], sent, z > 100000, 'parsed', rcv${search ? ', sh, sb' : ''}
       FROM unnest($4::text[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[], $11::text[],
         $12::text[], $13::timestamptz[], $14::timestamptz[], $15::text[], $16::text[])
         AS t(s, u, z, f, fa, fn, mid, subj, sent, rcv, sh, sb)`,
      [
        this.tenantId,
        mailboxId,
        folderId,
        msgs.map((m) => m.sha256),
        msgs[0].to,
        msgs.map((_, i) => firstUid + i),
        msgs.map((m) => m.size),
        msgs.map((m) => corpusFlags(m).join(' ')),
        msgs.map((m) => m.from.address),
        msgs.map((m) => m.from.name),
        msgs.map((m) => m.messageId),
        msgs.map((m) => m.subject),
        msgs.map((m) => m.date),
        msgs.map((m) => m.receivedAt),
        msgs.map((m) => (search ? m.searchHeaders : null)),
        msgs.map((m) => (search ? m.searchBody : null)),
      ],
    );
  }

  /** uid_next and highest_modseq of every folder, used bytes and counts of every mailbox, from the rows. */
  async settle() {
    await this.client.query(
      `UPDATE folders f SET uid_next = s.max_uid + 1, highest_modseq = s.max_modseq
       FROM (SELECT folder_id, max(uid) AS max_uid, max(modseq) AS max_modseq FROM messages
             WHERE tenant_id = $1 GROUP BY folder_id) s
       WHERE f.tenant_id = $1 AND f.id = s.folder_id`,
      [this.tenantId],
    );
    await this.client.query(
      `UPDATE mailboxes mb SET used_bytes = s.bytes, message_count = s.n
       FROM (SELECT mailbox_id, sum(size) AS bytes, count(*) AS n FROM messages WHERE tenant_id = $1 GROUP BY mailbox_id) s
       WHERE mb.tenant_id = $1 AND mb.id = s.mailbox_id`,
      [this.tenantId],
    );
    // What a bulk load ends with (PostgreSQL docs, "Populating a Database"): planner statistics,
    // hint bits and the visibility map set, tuples frozen, so neither autovacuum (whose backend,
    // in this database, the CPU meter would count as Mailroom's) nor first reads setting hint bits
    // work through the fresh rows during a measurement. A mailbox that filled over months is in
    // this state.
    await this.client.query('VACUUM (FREEZE, ANALYZE)');
  }
}

/**
 * Writes one folder of `count` corpus messages to both servers, in batches; returns what a
 * search for each benchmark query must find (computed from the corpus itself).
 */
async function fillFolder({ mr, mailboxId, folderId, maildir, count, corpus }) {
  const since = sinceDate().iso;
  const expected = { subject: 0, from: 0, body: 0, since: 0, unseen: 0, bytes: 0 };
  for (let start = 0; start < count; start += BATCH) {
    const msgs = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const m = corpus(i);
      m.to = corpus.to;
      msgs.push(m);
      expected.bytes += m.size;
      if (m.subject.toLowerCase().includes(SEARCH_TERMS.subject)) expected.subject++;
      if (m.from.address.includes(SEARCH_TERMS.from)) expected.from++;
      if (m.hasBodyTerm) expected.body++;
      if (m.receivedAt.toISOString().slice(0, 10) >= since) expected.since++;
      if (!m.seen) expected.unseen++;
    }
    await mr.messages(mailboxId, folderId, start + 1, msgs);
    maildir.add(msgs);
  }
  maildir.close();
  return expected;
}

/**
 * Seeds Mailroom's database `url` and the Dovecot instance folder `dovecotDir` (from
 * createDovecotDir) with the same users and mail. Returns { main, loginUsers, idleUsers,
 * expected: { search, fetch } } where each user is { login, password, hash }.
 */
export async function seedBoth(url, dovecotDir, { searchCount, fetchCount, loginUsers = 20, idleUsers = 0 }) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const mr = new MailroomFixtures(client);
  try {
    await mr.detectSearchColumns();
    const rebuildIndexes = await mr.suspendGinIndexes();
    await mr.tenant();
    const hash = await fullHash();
    const main = { login: `bench@${DOMAIN}`, password: PASSWORD, hash };
    const mainId = await mr.mailbox('bench', hash);
    const inboxId = await mr.folder(mainId, 'INBOX', 'inbox');
    const fetchId = await mr.folder(mainId, 'Fetch', 'custom');
    const search = await fillFolder({
      mr,
      mailboxId: mainId,
      folderId: inboxId,
      maildir: openMaildir(dovecotDir.mailDir(main.login), 'INBOX'),
      count: searchCount,
      corpus: Object.assign((i) => corpusMessage(i, searchCount, { seed: 1, profile: 'small' }), { to: main.login }),
    });
    const fetch = await fillFolder({
      mr,
      mailboxId: mainId,
      folderId: fetchId,
      maildir: openMaildir(dovecotDir.mailDir(main.login), 'Fetch'),
      count: fetchCount,
      corpus: Object.assign((i) => corpusMessage(i, fetchCount, { seed: 2, profile: 'mixed' }), { to: main.login }),
    });
    const smallUser = async (local, userHash, count, seed) => {
      const user = { login: `${local}@${DOMAIN}`, password: PASSWORD, hash: userHash };
      const id = await mr.mailbox(local, userHash);
      const folderId = await mr.folder(id, 'INBOX', 'inbox');
      await fillFolder({
        mr,
        mailboxId: id,
        folderId,
        maildir: openMaildir(dovecotDir.mailDir(user.login), 'INBOX'),
        count,
        corpus: Object.assign((i) => corpusMessage(i, count, { seed, profile: 'small', to: user.login }), {
          to: user.login,
        }),
      });
      return user;
    };
    const logins = [];
    for (let n = 1; n <= loginUsers; n++) logins.push(await smallUser(`login${n}`, await fullHash(), 5, 3));
    const idles = [];
    const idleHash = await cheapHash();
    for (let n = 1; n <= idleUsers; n++) idles.push(await smallUser(`idle${n}`, idleHash, 20, 4));
    await rebuildIndexes();
    await mr.settle();
    return { main, loginUsers: logins, idleUsers: idles, expected: { search, fetch }, tenantId: mr.tenantId };
  } finally {
    await client.end();
  }
}
