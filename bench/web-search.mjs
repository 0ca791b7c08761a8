// The dashboard's mailbox search (apps/web MailboxesPage) against a tenant of 10,000 mailboxes:
// the one API request the page makes once typing settles, timed as its user waits for it.
// Issue #16's target: under 300 ms.
//
//   npm run build && node bench/web-search.mjs          (200 searches per kind, ~1 min)
//   flags: --mailboxes 10000  --rounds 200  --concurrency 1  --keep
//
// Seeds a dedicated database like bench/api.mjs (one tenant and admin in SQL, a domain made
// through the API, 10,000 mailboxes in SQL with one argon2 hash reused), starts the built API as
// its own process with start:api's flags, signs in, and then sends the page's request
// GET /v1/tenants/{id}/mailboxes?limit=50&sort=localPart&q=<text>[&cursor=] for each kind of
// search a person types, `rounds` times each, one at a time (concurrency 1: one admin typing;
// raise it to see several admins at once). Latency is from fetch() to the parsed JSON body, as
// the page sees it (without the browser). Not part of the test suite.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { URLSearchParams } from 'node:url';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createBenchDatabase, freePort, serviceUrls, startNode } from './lib/env.mjs';
import { fmt, log, machineLine, markdownTable, parseFlags, percentile, root, saveResults } from './lib/report.mjs';

const require = createRequire(import.meta.url);
const argon2 = require('argon2');

const PASSWORD = 'bench passphrase that is long enough';
const TARGET_MS = 300;
const DOMAIN = 'bench-web.test';

/** start:api's environment assignments and node flags (package.json), so the API runs as shipped. */
function apiStartFlags() {
  const script = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts['start:api'];
  const words = script.trim().split(/\s+/);
  const env = {};
  let i = 0;
  for (; /^[A-Z_][A-Z0-9_]*=/.test(words[i] ?? ''); i++) {
    const eq = words[i].indexOf('=');
    env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
  }
  const nodeArgs = [];
  for (i++; (words[i] ?? '').startsWith('--'); i++) nodeArgs.push(words[i]);
  return { env, nodeArgs };
}

async function withClient(url, work) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function seedTenant(url, email, hash) {
  return withClient(url, async (client) => {
    const {
      rows: [tenant],
    } = await client.query(
      `INSERT INTO tenants (name, max_domains, max_mailboxes, storage_quota_bytes)
       VALUES ('bench web search', 10, 10000000, 1125899906842624) RETURNING id`,
    );
    await client.query(
      `INSERT INTO admin_users (email, password_hash, role, tenant_id) VALUES ($1, $2, 'tenant_admin', $3)`,
      [email, hash, tenant.id],
    );
    return tenant.id;
  });
}

async function seedMailboxes(url, { tenantId, domainId, count, hash }) {
  await withClient(url, async (client) => {
    await client.query(
      `INSERT INTO mailboxes (tenant_id, domain_id, local_part, password_hash, display_name)
       SELECT $1, $2, 'user' || lpad(g::text, 6, '0'), $3, 'User ' || g FROM generate_series(1, $4) g`,
      [tenantId, domainId, hash, count],
    );
    await client.query('ANALYZE');
  });
}

async function call(base, method, urlPath, { token, body } = {}) {
  const res = await fetch(base + urlPath, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/** What people type in the search box, each as the page sends it (MailboxesPage's query). */
function searches(count) {
  const n = Math.max(1, Math.floor(count / 2));
  const some = String(n).padStart(6, '0');
  return [
    { kind: 'one mailbox by local part', q: `user${some}` },
    { kind: 'a prefix matching every mailbox', q: 'user' },
    { kind: 'a longer prefix matching almost every mailbox', q: `user${some.slice(0, 2)}` },
    { kind: 'display name, mixed case', q: `User ${n}` },
    { kind: 'local part and domain (a@b)', q: `user${some}@${DOMAIN.slice(0, 5)}` },
    { kind: 'no match', q: 'nobody-here' },
  ];
}

async function timeSearch(base, tenantId, token, q, cursor) {
  const query = new URLSearchParams({ limit: '50', sort: 'localPart', q, ...(cursor ? { cursor } : {}) });
  const started = performance.now();
  const res = await fetch(`${base}/v1/tenants/${tenantId}/mailboxes?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = await res.json();
  const ms = performance.now() - started;
  if (res.status !== 200) throw new Error(`search ${q}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { ms, items: body.items.length, nextCursor: body.nextCursor };
}

/** `rounds` searches of `q`, `concurrency` at a time; the latency of each. */
async function measure(base, tenantId, token, q, { rounds, concurrency, cursor }) {
  const times = [];
  let items = 0;
  let next = 0;
  const worker = async () => {
    while (next < rounds) {
      next++;
      const r = await timeSearch(base, tenantId, token, q, cursor);
      times.push(r.ms);
      items = r.items;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    items,
    p50Ms: percentile(times, 0.5),
    p95Ms: percentile(times, 0.95),
    p99Ms: percentile(times, 0.99),
    maxMs: Math.max(...times),
  };
}

async function main() {
  const flags = parseFlags();
  const mailboxCount = Number(flags.mailboxes ?? 10_000);
  const rounds = Number(flags.rounds ?? 200);
  const concurrency = Number(flags.concurrency ?? 1);
  const { redisUrl } = serviceUrls();
  const db = await createBenchDatabase('web_search', { keep: !!flags.keep });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-web-'));
  const email = `bench-web-${randomBytes(3).toString('hex')}@example.com`;
  const start = apiStartFlags();
  let api = null;
  const rows = [];
  try {
    const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id });
    const tenantId = await seedTenant(db.url, email, hash);
    const port = await freePort();
    api = await startNode(path.join(root, 'dist/apps/api/src/main.js'), {
      label: 'api',
      port,
      nodeArgs: start.nodeArgs,
      env: {
        ...start.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'warn',
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: `mrbench${randomBytes(3).toString('hex')}`,
        MX_HOSTNAME: 'mx.mailroom.bench.test',
        MASTER_KEY: randomBytes(32).toString('hex'),
        DATA_DIR: tmp,
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        API_RATE_LIMIT_PER_MINUTE: '100000000',
      },
    });
    const base = `http://127.0.0.1:${port}`;
    const { accessToken: token } = await call(base, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const domain = await call(base, 'POST', `/v1/tenants/${tenantId}/domains`, { token, body: { name: DOMAIN } });
    log(`seeding ${fmt(mailboxCount)} mailboxes`);
    await seedMailboxes(db.url, { tenantId, domainId: domain.id, count: mailboxCount, hash });

    // Warm-up: the first requests pay for JIT, connection pools and the planner's cache.
    for (let i = 0; i < 20; i++) await timeSearch(base, tenantId, token, 'user', undefined);

    const list = searches(mailboxCount);
    const firstPage = await timeSearch(base, tenantId, token, 'user', undefined);
    for (const s of list) {
      log(`${s.kind} (q=${s.q}): ${rounds} searches, ${concurrency} at a time`);
      rows.push({ ...s, ...(await measure(base, tenantId, token, s.q, { rounds, concurrency })) });
    }
    log(`next page of q=user: ${rounds} searches`);
    rows.push({
      kind: 'next page of a broad search (keyset cursor)',
      q: 'user',
      ...(await measure(base, tenantId, token, 'user', { rounds, concurrency, cursor: firstPage.nextCursor })),
    });
  } finally {
    await api?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    await db.drop();
  }

  const worstP95 = Math.max(...rows.map((r) => r.p95Ms));
  const table = markdownTable(
    ['search', 'q', 'rows', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
    rows.map((r) => [
      r.kind,
      `\`${r.q}\``,
      r.items,
      fmt(r.p50Ms, 1),
      fmt(r.p95Ms, 1),
      fmt(r.p99Ms, 1),
      fmt(r.maxMs, 1),
    ]),
  );
  const markdown = [
    `### Dashboard mailbox search: ${fmt(mailboxCount)} mailboxes, ${rounds} searches per row, ${concurrency} at a time`,
    '',
    `Machine: ${machineLine()}. The request MailboxesPage sends when typing settles`,
    '(GET /v1/tenants/{id}/mailboxes?limit=50&sort=localPart&q=...), timed from fetch() to the parsed body;',
    `the API as its own process with start:api's flags. Target (issue #16): under ${TARGET_MS} ms.`,
    `Worst p95: ${fmt(worstP95, 1)} ms (${worstP95 < TARGET_MS ? 'meets' : 'misses'} the target).`,
    '',
    table,
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const files = saveResults('web-search', { mailboxes: mailboxCount, rounds, concurrency, rows }, markdown);
  log(`saved ${files.json} and ${files.md}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
