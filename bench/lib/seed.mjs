// Bulk seeding in SQL (generate_series), so 100,000 mailboxes take seconds, not minutes.
import pg from 'pg';

/**
 * `tenants` tenants, each with one active domain t<n>.bench.test, and `mailboxes` mailboxes
 * spread evenly over them (u<k>@...), each with INBOX and Junk. Returns every address.
 */
export async function seedHosted(url, { tenants, mailboxes, passwordHash = 'x' }) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO tenants (name, max_domains, max_mailboxes, storage_quota_bytes)
       SELECT 'bench ' || g, 10, 1000000, 1099511627776 FROM generate_series(1, $1) g`,
      [tenants],
    );
    await client.query(
      `INSERT INTO domains (tenant_id, name, unicode_name, ownership_token, status, verified_at, activated_at)
       SELECT id, 't' || n || '.bench.test', 't' || n || '.bench.test', md5(id::text), 'active', now(), now()
       FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM tenants) t`,
    );
    // Mailbox k goes to tenant (k mod tenants): an even spread, whatever the two numbers.
    await client.query(
      `WITH d AS (SELECT tenant_id, id, row_number() OVER (ORDER BY name) - 1 AS i FROM domains)
       INSERT INTO mailboxes (tenant_id, domain_id, local_part, password_hash)
       SELECT d.tenant_id, d.id, 'u' || g, $3 FROM generate_series(1, $1) g JOIN d ON d.i = g % $2`,
      [mailboxes, tenants, passwordHash],
    );
    await client.query(
      `INSERT INTO folders (tenant_id, mailbox_id, name, kind)
       SELECT tenant_id, id, 'INBOX', 'inbox'::"FolderKind" FROM mailboxes
       UNION ALL SELECT tenant_id, id, 'Junk', 'junk'::"FolderKind" FROM mailboxes`,
    );
    await client.query('ANALYZE');
    const { rows } = await client.query(
      `SELECT m.local_part || '@' || d.name AS address FROM mailboxes m
       JOIN domains d ON d.tenant_id = m.tenant_id AND d.id = m.domain_id`,
    );
    return rows.map((r) => r.address);
  } finally {
    await client.end();
  }
}
