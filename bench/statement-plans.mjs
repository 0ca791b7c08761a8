// The plans of the named prepared statements (libs/db defineStatement) for a big tenant and a
// small one: a prepared statement switches to one generic plan after five runs when PostgreSQL
// thinks it no worse, so each must keep index access whatever the tenant.
//
//   npm run build && node bench/statement-plans.mjs [--big 100000] [--keep]
//
// Seeds a dedicated database: one tenant with --big mailboxes (folders, filter rules, vacation
// replies and logs, forwards, aliases, blobs in proportion), one with 5, 50 with 20 each and 5,000
// with none (so tenants and domains are not tiny tables), each domain's DNS checks, and who
// signs in to the API (2,000 resellers, an admin with five sessions per tenant and per reseller,
// an API key each). Prints
// for every statement the custom plan and the generic plan (plan_cache_mode) for both tenants,
// and fails when a generic plan scans a whole table.
import { createRequire } from 'node:module';
import pg from 'pg';
import { createBenchDatabase } from './lib/env.mjs';
import { log, parseFlags } from './lib/report.mjs';

const require = createRequire(import.meta.url);
const { prepareValue } = require('pg/lib/utils');
const dist = new URL('../dist/', import.meta.url);
// Loading the modules defines their statements.
require(new URL('apps/mta/src/core/recipient.repository.js', dist).pathname);
require(new URL('apps/mta/src/core/delivery-settings.repository.js', dist).pathname);
require(new URL('libs/mailstore/src/deliver.repository.js', dist).pathname);
require(new URL('libs/mailstore/src/read.repository.js', dist).pathname);
require(new URL('apps/worker/src/delivery/delivery.repository.js', dist).pathname);
require(new URL('apps/worker/src/delivery/outcome.repository.js', dist).pathname);
require(new URL('apps/api/src/auth/auth.repository.js', dist).pathname);
require(new URL('apps/api/src/mailboxes/mailbox.repository.js', dist).pathname);
require(new URL('apps/api/src/domains/domain.repository.js', dist).pathname);
const { definedStatements } = require(new URL('libs/db/src/statements.js', dist).pathname);

async function seed(client, big) {
  await client.query(`INSERT INTO tenants (name, max_domains, max_mailboxes, storage_quota_bytes)
    SELECT n, 10, 1000000, 1099511627776 FROM unnest(ARRAY['big', 'small']) n
    UNION ALL SELECT 'mid ' || g, 10, 1000000, 1099511627776 FROM generate_series(1, 50) g
    UNION ALL SELECT 'empty ' || g, 10, 1000000, 1099511627776 FROM generate_series(1, 5000) g`);
  await client.query(`INSERT INTO domains (tenant_id, name, unicode_name, ownership_token, status, verified_at, activated_at)
    SELECT id, replace(name, ' ', '') || '.test', replace(name, ' ', '') || '.test', md5(id::text), 'active', now(), now() FROM tenants`);
  await client.query(
    `INSERT INTO mailboxes (tenant_id, domain_id, local_part, password_hash)
     SELECT d.tenant_id, d.id, 'u' || g, 'x' FROM domains d
     JOIN tenants t ON t.id = d.tenant_id
     CROSS JOIN LATERAL generate_series(1, CASE WHEN t.name = 'big' THEN $1::int WHEN t.name = 'small' THEN 5
       WHEN t.name LIKE 'mid %' THEN 20 ELSE 0 END) g`,
    [big],
  );
  await client.query(`INSERT INTO folders (tenant_id, mailbox_id, name, kind)
    SELECT tenant_id, id, 'INBOX', 'inbox'::"FolderKind" FROM mailboxes
    UNION ALL SELECT tenant_id, id, 'Junk', 'junk'::"FolderKind" FROM mailboxes`);
  // Rules mostly in the big tenant, as they would be.
  await client.query(`INSERT INTO filter_rules (tenant_id, mailbox_id, position, name, conditions, actions)
    SELECT tenant_id, id, p, 'r' || p, '[]', '[]' FROM mailboxes, generate_series(1, 3) p
    WHERE substr(local_part, 2)::int % 10 = 0`);
  await client.query(`INSERT INTO vacation_replies (tenant_id, mailbox_id, enabled, subject, body)
    SELECT tenant_id, id, true, 'away', 'away' FROM mailboxes WHERE substr(local_part, 2)::int % 20 = 0`);
  await client.query(`INSERT INTO vacation_logs (tenant_id, mailbox_id, sender, last_sent_at)
    SELECT tenant_id, id, 's' || s || '@x.test', now() FROM mailboxes, generate_series(1, 20) s
    WHERE substr(local_part, 2)::int % 20 = 0`);
  await client.query(`INSERT INTO forwarding_rules (tenant_id, mailbox_id, targets)
    SELECT tenant_id, id, ARRAY['f@elsewhere.test'] FROM mailboxes WHERE substr(local_part, 2)::int % 50 = 0`);
  await client.query(`INSERT INTO aliases (tenant_id, domain_id, local_part, destinations)
    SELECT tenant_id, domain_id, 'a' || local_part, ARRAY[local_part || '@x.test'] FROM mailboxes
    WHERE substr(local_part, 2)::int % 10 = 1`);
  await client.query(`INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
    SELECT tenant_id, md5(id::text || g) || md5(g || id::text), 10, '\\x00' FROM mailboxes, generate_series(1, 2) g`);
  // Two messages in each INBOX (IMAP FETCH reads them with their blobs).
  await client.query(`INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, size, envelope_from, envelope_to)
    SELECT f.tenant_id, f.mailbox_id, f.id, md5(f.mailbox_id::text || g) || md5(g || f.mailbox_id::text), g, 10, 'a@b.test', 'x'
    FROM folders f, generate_series(1, 2) g WHERE f.name = 'INBOX'`);
  // Outbound mail: a message from every other mailbox (its first blob), to two domains, most
  // delivered, every tenth queued; an active DKIM key per domain; a webhook in every other tenant.
  await client.query(`INSERT INTO outbound_messages (tenant_id, kind, mailbox_id, envelope_from, from_domain, blob_sha256, size)
    SELECT m.tenant_id, 'submission', m.id, m.local_part || '@' || d.name, d.name, md5(m.id::text || 1) || md5(1 || m.id::text), 10
    FROM mailboxes m JOIN domains d ON d.tenant_id = m.tenant_id AND d.id = m.domain_id
    WHERE substr(m.local_part, 2)::int % 2 = 1`);
  await client.query(`INSERT INTO deliveries (tenant_id, outbound_message_id, recipient, recipient_domain, status, attempts, expires_at)
    SELECT o.tenant_id, o.id, 'r@' || x || '.test', x || '.test',
      CASE WHEN substr(m.local_part, 2)::int % 20 = 1 THEN 'queued' ELSE 'delivered' END::"DeliveryStatus",
      CASE WHEN substr(m.local_part, 2)::int % 20 = 1 THEN 0 ELSE 1 END, now() + interval '5 days'
    FROM outbound_messages o JOIN mailboxes m ON m.tenant_id = o.tenant_id AND m.id = o.mailbox_id, unnest(ARRAY['x', 'y']) x`);
  await client.query(`INSERT INTO dkim_keys (tenant_id, domain_id, selector, public_key, private_key_encrypted, status, activated_at)
    SELECT tenant_id, id, 's1', 'p', 'k', 'active', now() FROM domains`);
  await client.query(`INSERT INTO webhooks (tenant_id, url, secret_encrypted, events)
    SELECT id, 'https://hooks.test/', 's', ARRAY['delivery.bounced'] FROM tenants WHERE name NOT IN ('big', 'small')`);
  // The DNS records each domain's onboarding checks (the API's DNS plan reads them).
  await client.query(`INSERT INTO dns_checks (tenant_id, domain_id, record_key, type, name, expected, status)
    SELECT tenant_id, id, k, 'TXT', name, 'v', 'ok' FROM domains,
      unnest(ARRAY['ownership', 'mx', 'spf', 'dkim:s1', 'dmarc', 'mta-sts', 'tls-rpt']) k`);
  // Who signs in to the API: 2,000 resellers owning the tenants round-robin, an admin per tenant
  // and per reseller with five sessions' refresh tokens each, an API key per tenant and per
  // reseller (empty tables would make every plan a scan of them).
  await client.query(`INSERT INTO resellers (name) SELECT 'reseller ' || g FROM generate_series(1, 2000) g`);
  await client.query(`UPDATE tenants t SET reseller_id = r.id
    FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM resellers) r,
         (SELECT id, row_number() OVER (ORDER BY id) AS n FROM tenants) o
    WHERE o.id = t.id AND r.n = o.n % 2000`);
  await client.query(`INSERT INTO admin_users (email, password_hash, role, tenant_id)
    SELECT 'admin@' || id || '.test', 'x', 'tenant_admin', id FROM tenants`);
  await client.query(`INSERT INTO admin_users (email, password_hash, role, reseller_id)
    SELECT 'admin@' || id || '.test', 'x', 'reseller_admin', id FROM resellers`);
  await client.query(`INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
    SELECT u.id, gen_random_uuid(), md5(u.id::text || g), now() + interval '30 days'
    FROM admin_users u, generate_series(1, 5) g`);
  await client.query(`INSERT INTO api_keys (name, prefix, key_hash, tenant_id, scopes)
    SELECT 'k', 'mr_' || substr(md5(id::text), 1, 8), md5('k' || id::text), id, ARRAY['mailboxes:read'] FROM tenants`);
  await client.query(`INSERT INTO api_keys (name, prefix, key_hash, reseller_id, scopes)
    SELECT 'k', 'mr_' || substr(md5(id::text), 1, 8), md5('k' || id::text), id, ARRAY['tenants:read'] FROM resellers`);
  await client.query('ANALYZE');
}

async function ids(client, tenant) {
  const { rows } = await client.query(
    `SELECT t.id AS tenant_id, d.id AS domain_id, d.name AS domain,
       (SELECT array_agg(m.id::text ORDER BY m.local_part) FROM (SELECT id, local_part FROM mailboxes m
          WHERE m.tenant_id = t.id AND m.local_part IN ('u1', 'u2', 'u3', 'u4', 'u5')) m) AS mailboxes,
       (SELECT f.id::text FROM folders f JOIN mailboxes m ON m.id = f.mailbox_id
          WHERE f.tenant_id = t.id AND m.local_part = 'u1' AND f.name = 'INBOX') AS folder_id,
       (SELECT array_agg(b.sha256) FROM message_blobs b JOIN mailboxes m ON m.tenant_id = b.tenant_id
          AND b.sha256 IN (md5(m.id::text || 1) || md5(1 || m.id::text), md5(m.id::text || 2) || md5(2 || m.id::text))
          WHERE m.tenant_id = t.id AND m.local_part = 'u1') AS blobs,
       (SELECT dl.id::text FROM deliveries dl JOIN outbound_messages o ON o.tenant_id = dl.tenant_id
          AND o.id = dl.outbound_message_id JOIN mailboxes m ON m.tenant_id = o.tenant_id AND m.id = o.mailbox_id
          WHERE dl.tenant_id = t.id AND m.local_part = 'u1' AND dl.recipient_domain = 'x.test') AS delivery_id
     FROM tenants t JOIN domains d ON d.tenant_id = t.id WHERE t.name = $1`,
    [tenant],
  );
  return rows[0];
}

function literal(client, value) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Buffer.isBuffer(value)) return `'\\x${value.toString('hex')}'`;
  return client.escapeLiteral(String(prepareValue(value)));
}

function paramsFor(name, t) {
  const rows = JSON.stringify(
    t.mailboxes.map((id) => ({
      tenant_id: t.tenant_id,
      mailbox_id: id,
      folder_name: 'INBOX',
      folder_kind: 'inbox',
      flags: [],
      envelope_to: 'x',
      filter_trace: null,
    })),
  );
  switch (name) {
    case 'rcpt_domain_by_name':
      return [t.domain, ['u3', '*']];
    case 'rcpt_domain_by_id':
      return [t.tenant_id, t.domain_id];
    case 'rcpt_local_parts':
      return [t.tenant_id, t.domain_id, ['u3', '*']];
    case 'delivery_settings':
      return [t.mailboxes.map(() => t.tenant_id), t.mailboxes, 's1@x.test'];
    case 'deliver_copies':
      // prettier-ignore
      return [rows, 5000, 'ab'.repeat(32), Buffer.from('Subject: x\r\n\r\nx\r\n'), [t.tenant_id], 'a@b.test', '127.0.0.1',
        'h', '<m@x>', 's', 'a@b.test', null, ['x@y'], new Date(), 0, '{}', null, null, null, null, null, null, null, [],
        ['0'], [25000], t.mailboxes.length, 1, 'refused'];
    case 'fetch_messages':
      return [262144, t.tenant_id, t.folder_id, [1, 2], false, true, 100, 1048576];
    case 'fetch_blobs':
      return [false, 262144, true, t.tenant_id, t.blobs];
    case 'blob_info':
      return [t.tenant_id, t.blobs[0]];
    case 'blob_slice':
      return [1, 262144, t.tenant_id, t.blobs[0]];
    case 'delivery_claim':
      return [t.tenant_id, t.delivery_id, 0];
    case 'delivery_renew_claim':
      return [t.tenant_id, [t.delivery_id], [1]];
    case 'delivery_record_plain':
      // prettier-ignore
      return [[t.tenant_id], [t.delivery_id], [1], ['delivered'], ['250 ok'], [250], ['mx.x.test'], [null], ['mx.x.test'],
        ['192.0.2.1'], [250], ['2.0.0'], ['250 ok'], [12]];
    case 'api_user_for_request':
      return [t.mailboxes[0], t.tenant_id, t.mailboxes[1]];
    case 'api_key_for_request':
      return ['mr_abcdefgh', t.tenant_id];
    case 'api_domain_live':
      return [t.tenant_id, t.domain_id, []];
    default: {
      // The API's mailbox list: every shape, first page and after a cursor; the filtered ones
      // with a search (what the dashboard's search box sends).
      const list = /^api_mailbox_list_(filtered_)?(local_part|created_at)_(asc|desc)(_after)?$/.exec(name);
      if (!list) throw new Error(`no parameters for statement ${name}`);
      const params = [t.tenant_id, 51];
      if (list[1]) params.push(null, [], null, 'u42', 'u42', null, null);
      if (list[4]) params.push(list[2] === 'local_part' ? 'u5000' : new Date(Date.now() - 3600_000), t.mailboxes[0]);
      return params;
    }
  }
}

/** Statements defined with customPlans (see definedStatements' callers). */
const CUSTOM_PLANS = /^api_mailbox_list_/;

/** The API's tenant reads run under row-level security (role mailroom_api, app.tenant_id). */
const UNDER_RLS = /^api_(mailbox_list|domain_live)/;

async function explain(client, name, params, mode) {
  await client.query(`SET plan_cache_mode = ${mode}`);
  if (UNDER_RLS.test(name)) {
    await client.query('BEGIN');
    try {
      await client.query(`SELECT set_config('role', 'mailroom_api', true), set_config('app.tenant_id', $1, true)`, [
        params[0],
      ]);
      const args = params.map((p) => literal(client, p)).join(', ');
      const { rows } = await client.query(`EXPLAIN EXECUTE ${name}(${args})`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
    }
  }
  const args = params.map((p) => literal(client, p)).join(', ');
  const { rows } = await client.query(`EXPLAIN EXECUTE ${name}(${args})`);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

async function main() {
  const flags = parseFlags();
  const big = Number(flags.big ?? 100_000);
  const db = await createBenchDatabase('plans', { keep: Boolean(flags.keep) });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  let bad = 0;
  try {
    log(`seeding a tenant with ${big} mailboxes, one with 5, 50 with 20`);
    await seed(client, big);
    const tenants = { big: await ids(client, 'big'), small: await ids(client, 'small') };
    for (const [name, text] of definedStatements()) {
      await client.query(`PREPARE ${name} AS ${text}`);
      for (const [label, t] of Object.entries(tenants)) {
        const params = paramsFor(name, t);
        const custom = await explain(client, name, params, 'force_custom_plan');
        const generic = await explain(client, name, params, 'force_generic_plan');
        const scans = [...generic.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]);
        // Planned for their parameters at every run (defineStatement's customPlans): the custom
        // plan is the one that runs, so it is the one checked.
        const customOnly = CUSTOM_PLANS.test(name);
        const checked = customOnly ? [...custom.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]) : scans;
        if (checked.length > 0) bad++;
        const what = customOnly ? 'custom plan (customPlans: the one that runs)' : 'generic plan';
        console.log(`\n=== ${name}, ${label} tenant: ${what}${checked.length ? ` SCANS ${checked.join(', ')}` : ''}`);
        console.log(customOnly ? custom : generic);
        console.log(customOnly ? '--- generic plan (not used)' : `--- custom plan`);
        console.log(customOnly ? generic : custom);
      }
    }
  } finally {
    await client.end();
    await db.drop();
  }
  if (bad > 0) {
    console.log(`\n${bad} generic plan(s) scan a table`);
    process.exitCode = 1;
  } else console.log('\nno generic plan scans a table');
}

await main();
