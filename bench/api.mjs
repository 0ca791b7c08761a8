// API latency and throughput (autocannon) beside a bare node:http server answering the same
// JSON from memory, both measured in the same run.
//
//   npm run build && node bench/api.mjs            (10 s per endpoint per server, ~2 min)
//   node bench/api.mjs --quick                     (3 s each)
//   flags: --duration 10  --connections 10  --mailboxes 10000  --log-level warn  --keep
//          --api-flags none   (plain node, without start:api's memory settings)
//          --only mailboxes   (measure only the endpoints whose name contains this text)
//          --cpu-prof DIR     (write a V8 CPU profile of the API process to DIR when it stops)
//
// Seeds a dedicated database with one tenant, its admin and (in SQL, one argon2 hash reused)
// 10,000 mailboxes in a domain made through the API, then starts the real API as a child
// process (dist/apps/api/src/main.js) and measures: login, list a page of 50 mailboxes, the
// dashboard's mailbox search (q) and its next page (keyset cursor), create a mailbox (a new
// local part each request), and the domain's DNS plan; the list page also with a tenant API key.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  createBenchDatabase,
  dbCpuDelta,
  dbCpuSnapshot,
  freePort,
  serviceUrls,
  startNode,
  startScriptFlags,
} from './lib/env.mjs';
import { fmt, log, machine, machineLine, markdownTable, parseFlags, ratio, root, saveResults } from './lib/report.mjs';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const argon2 = require('argon2');

const PASSWORD = 'bench passphrase that is long enough';

/**
 * The environment assignments and node flags of package.json's start:api (the API's memory
 * settings, README "Running the apps"), so the benchmark runs the API as it is shipped.
 * `--api-flags none` runs it with plain `node` to show what they change.
 */
function apiStartFlags(flags) {
  const start = flags['api-flags'] === 'none' ? { env: {}, nodeArgs: [] } : startScriptFlags('start:api');
  if (flags['cpu-prof']) start.nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${path.resolve(String(flags['cpu-prof']))}`);
  return start;
}

async function seedTenant(url, email) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const hash = await argon2.hash(PASSWORD, { type: argon2.argon2id });
    const {
      rows: [tenant],
    } = await client.query(
      `INSERT INTO tenants (name, max_domains, max_mailboxes, storage_quota_bytes)
       VALUES ('bench api', 10, 10000000, 1125899906842624) RETURNING id`,
    );
    await client.query(
      `INSERT INTO admin_users (email, password_hash, role, tenant_id) VALUES ($1, $2, 'tenant_admin', $3)`,
      [email, hash, tenant.id],
    );
    return { tenantId: tenant.id, hash };
  } finally {
    await client.end();
  }
}

async function seedMailboxes(url, { tenantId, domainId, count, hash }) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO mailboxes (tenant_id, domain_id, local_part, password_hash, display_name)
       SELECT $1, $2, 'user' || lpad(g::text, 6, '0'), $3, 'User ' || g FROM generate_series(1, $4) g`,
      [tenantId, domainId, hash, count],
    );
    await client.query(
      `INSERT INTO folders (tenant_id, mailbox_id, name, kind)
       SELECT tenant_id, id, 'INBOX', 'inbox'::"FolderKind" FROM mailboxes WHERE tenant_id = $1
       ON CONFLICT DO NOTHING`,
      [tenantId],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
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
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  if (res.status >= 300) throw new Error(`${method} ${urlPath}: ${res.status} ${text.slice(0, 500)}`);
  return { status: res.status, body: json };
}

function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** The endpoints measured: autocannon request definitions and the route the baseline matches. */
function endpoints({ email, tenantId, domainId, domainName, token, apiKey, nextCursor }) {
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  let created = 0;
  const run = randomBytes(3).toString('hex');
  return [
    {
      name: 'POST /v1/auth/login',
      method: 'POST',
      path: '/v1/auth/login',
      pattern: '^/v1/auth/login$',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    },
    {
      name: 'GET /v1/tenants/{id}/mailboxes?limit=50',
      method: 'GET',
      path: `/v1/tenants/${tenantId}/mailboxes?limit=50`,
      pattern: '^/v1/tenants/[^/]+/mailboxes$',
      headers: auth,
    },
    {
      // The same page read with a tenant API key (what a reseller's or tenant's scripts send)
      // instead of the admin's access token: the guard's key path, its cache and last-use write.
      name: 'GET /v1/tenants/{id}/mailboxes?limit=50 (tenant API key)',
      method: 'GET',
      path: `/v1/tenants/${tenantId}/mailboxes?limit=50`,
      pattern: '^/v1/tenants/[^/]+/mailboxes$',
      headers: { authorization: `Bearer ${apiKey}` },
      token: apiKey,
    },
    {
      // What the dashboard's search box sends (apps/web MailboxesPage): one in 1,000 matches.
      name: 'GET /v1/tenants/{id}/mailboxes?q=user0042 (dashboard search)',
      method: 'GET',
      path: `/v1/tenants/${tenantId}/mailboxes?limit=50&sort=localPart&q=user0042`,
      pattern: '^/v1/tenants/[^/]+/mailboxes\\?.*q=user0042',
      withQuery: true,
      headers: auth,
    },
    {
      // A search every mailbox matches: the page must still come from walking the sort order.
      name: 'GET /v1/tenants/{id}/mailboxes?q=user (every mailbox matches)',
      method: 'GET',
      path: `/v1/tenants/${tenantId}/mailboxes?limit=50&sort=localPart&q=user`,
      pattern: '^/v1/tenants/[^/]+/mailboxes\\?.*q=user$',
      withQuery: true,
      headers: auth,
    },
    {
      name: 'GET /v1/tenants/{id}/mailboxes?cursor= (dashboard next page)',
      method: 'GET',
      path: `/v1/tenants/${tenantId}/mailboxes?limit=50&sort=localPart&cursor=${encodeURIComponent(nextCursor)}`,
      pattern: '^/v1/tenants/[^/]+/mailboxes\\?.*cursor=',
      withQuery: true,
      headers: auth,
    },
    {
      name: 'POST /v1/tenants/{id}/mailboxes',
      method: 'POST',
      path: `/v1/tenants/${tenantId}/mailboxes`,
      pattern: '^/v1/tenants/[^/]+/mailboxes$',
      headers: auth,
      body: JSON.stringify({ localPart: `new-${run}-0`, domain: domainName, password: PASSWORD }),
      // A new local part per request: the API would answer 409 to a repeat.
      setupRequest: (req) => ({
        ...req,
        body: JSON.stringify({ localPart: `new-${run}-${++created}`, domain: domainName, password: PASSWORD }),
      }),
    },
    {
      name: 'GET /v1/tenants/{id}/domains/{id}/dns',
      method: 'GET',
      path: `/v1/tenants/${tenantId}/domains/${domainId}/dns`,
      pattern: '^/v1/tenants/[^/]+/domains/[^/]+/dns$',
      headers: auth,
    },
  ];
}

async function measure(base, endpoint, { duration, connections, cpu, dbCpu }) {
  const cpuBefore = cpu();
  const dbBefore = dbCpu ? await dbCpu() : null;
  const result = await cannon({
    url: base,
    connections,
    duration,
    requests: [
      {
        method: endpoint.method,
        path: endpoint.path,
        headers: endpoint.headers,
        body: endpoint.body,
        ...(endpoint.setupRequest ? { setupRequest: endpoint.setupRequest } : {}),
      },
    ],
  });
  const total = result['2xx'] + result.non2xx;
  const cpuAfter = cpu();
  const dbAfter = dbCpu ? await dbCpu() : null;
  return {
    rps: result['2xx'] / duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuMsPerRequest: total ? ((cpuAfter - cpuBefore) * 1000) / total : null,
    dbCpuMsPerRequest: total && dbBefore && dbAfter ? (dbCpuDelta(dbBefore, dbAfter) * 1000) / total : null,
  };
}

async function main() {
  const flags = parseFlags();
  const duration = Number(flags.duration ?? (flags.quick ? 3 : 10));
  const connections = Number(flags.connections ?? 10);
  const mailboxCount = Number(flags.mailboxes ?? 10_000);
  const { redisUrl } = serviceUrls();
  const db = await createBenchDatabase('api', { keep: !!flags.keep });
  const email = `bench-admin-${randomBytes(3).toString('hex')}@example.com`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-api-'));
  const procs = [];
  const rows = [];
  // Watches the API's PostgreSQL backends (pg_stat_activity) for their CPU per request.
  const monitor = new pg.Client({ connectionString: db.url });
  await monitor.connect();
  const start = apiStartFlags(flags);
  const apiFlagsLine =
    [...Object.entries(start.env).map(([k, v]) => `${k}=${v}`), ...start.nodeArgs].join(' ') || 'none';
  try {
    const { tenantId, hash } = await seedTenant(db.url, email);
    const apiPort = await freePort();
    const api = await startNode(path.join(root, 'dist/apps/api/src/main.js'), {
      label: 'api',
      port: apiPort,
      nodeArgs: start.nodeArgs,
      env: {
        ...start.env,
        NODE_ENV: 'development',
        LOG_LEVEL: String(flags['log-level'] ?? 'warn'),
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: `mrbench${randomBytes(3).toString('hex')}`,
        MX_HOSTNAME: 'mx.mailroom.bench.test',
        MASTER_KEY: randomBytes(32).toString('hex'),
        DATA_DIR: tmp,
        API_HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        // The benchmark measures the work, not the abuse limits.
        API_RATE_LIMIT_PER_MINUTE: '100000000',
        LOGIN_MAX_FAILURES_PER_IP: '100000000',
      },
    });
    procs.push(api);
    const base = `http://127.0.0.1:${apiPort}`;
    const login = await call(base, 'POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
    const token = login.body.accessToken;
    const domainName = 'bench-api.test';
    const domain = await call(base, 'POST', `/v1/tenants/${tenantId}/domains`, { token, body: { name: domainName } });
    const domainId = domain.body.id;
    log(`seeding ${fmt(mailboxCount)} mailboxes`);
    await seedMailboxes(db.url, { tenantId, domainId, count: mailboxCount, hash });
    const first = await call(base, 'GET', `/v1/tenants/${tenantId}/mailboxes?limit=50&sort=localPart`, { token });
    const key = await call(base, 'POST', `/v1/tenants/${tenantId}/api-keys`, {
      token,
      body: { name: 'bench', scopes: ['mailboxes:read'] },
    });
    if (key.status !== 201) throw new Error(`creating the bench's API key: ${key.status} ${JSON.stringify(key.body)}`);
    const apiKey = key.body.key;
    const list = endpoints({
      email,
      tenantId,
      domainId,
      domainName,
      token,
      apiKey,
      nextCursor: first.body.nextCursor,
    }).filter((e) => !flags.only || e.name.includes(String(flags.only)));

    // The baseline answers what the API answered, captured once now.
    const routes = [];
    for (const e of list) {
      const sample = await call(base, e.method, e.path, {
        token: e.name.includes('login') ? undefined : (e.token ?? token),
        body: e.body ? JSON.parse(e.setupRequest ? e.setupRequest({}).body : e.body) : undefined,
      });
      routes.push({
        method: e.method,
        pattern: e.pattern,
        withQuery: !!e.withQuery,
        status: sample.status,
        body: sample.body,
      });
    }
    const routesFile = path.join(tmp, 'routes.json');
    fs.writeFileSync(routesFile, JSON.stringify(routes));
    const barePort = await freePort();
    const bare = await startNode(path.join(root, 'bench/lib/bare-http.mjs'), {
      label: 'bare-http',
      port: barePort,
      args: [String(barePort), routesFile],
      env: {},
    });
    procs.push(bare);

    for (const e of list) {
      log(`${e.name}: mailroom api, ${duration} s`);
      const real = await measure(base, e, {
        duration,
        connections,
        cpu: api.cpu,
        dbCpu: () => dbCpuSnapshot(monitor, db.name),
      });
      log(`${e.name}: bare http, ${duration} s`);
      const baseline = await measure(`http://127.0.0.1:${barePort}`, e, { duration, connections, cpu: bare.cpu });
      rows.push({ endpoint: e.name, mailroom: real, bare: baseline });
      log(`  ${fmt(real.rps, 1)} req/s (bare ${fmt(baseline.rps, 0)}), p99 ${fmt(real.p99Ms, 1)} ms`);
    }
    rows.push({ peakRssMb: { mailroom: api.peakRssMb(), bare: bare.peakRssMb() } });
  } finally {
    for (const p of procs) await p.stop();
    await monitor.end();
    fs.rmSync(tmp, { recursive: true, force: true });
    await db.drop();
  }

  const peak = rows.pop().peakRssMb;
  const table = markdownTable(
    [
      'endpoint',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU ms/req',
      'DB CPU ms/req',
      'non-2xx',
      'bare req/s',
      'bare p50 ms',
      'bare p99 ms',
      'bare ÷ API req/s',
      'API ÷ bare p99',
    ],
    rows.map((r) => [
      r.endpoint,
      fmt(r.mailroom.rps, 1),
      fmt(r.mailroom.p50Ms, 1),
      fmt(r.mailroom.p99Ms, 1),
      fmt(r.mailroom.cpuMsPerRequest, 2),
      fmt(r.mailroom.dbCpuMsPerRequest, 2),
      fmt(r.mailroom.non2xx + r.mailroom.errors),
      fmt(r.bare.rps, 0),
      fmt(r.bare.p50Ms, 1),
      fmt(r.bare.p99Ms, 1),
      ratio(r.bare.rps, r.mailroom.rps, 0),
      ratio(r.mailroom.p99Ms, Math.max(r.bare.p99Ms, 1), 0),
    ]),
  );
  const markdown = [
    `### API: ${duration} s per endpoint, ${connections} connections (autocannon)`,
    '',
    `Machine: ${machineLine(machine())}. Tenant with ${fmt(mailboxCount)} mailboxes; JWT of a tenant admin`,
    '(the row marked "tenant API key": a mailboxes:read key of the tenant instead);',
    'the API runs as its own process (NestJS on Express; a read is one PostgreSQL round trip under RLS with its credential',
    'from the in-process cache, and Redis for the rate limit: one round trip, two with an API key), log level warn.',
    'CPU ms/req is the API process; DB CPU ms/req the PostgreSQL backends serving its database.',
    'Baseline: bare node:http answering the same JSON bodies from memory (latency resolution 1 ms).',
    'Ratios: how many times fewer requests per second / how many times the p99. Login and create mailbox',
    'spend most of their time in argon2id on purpose (the password hash is the cost of a guess).',
    `Peak RSS: API ${fmt(peak.mailroom, 0)} MB, bare ${fmt(peak.bare, 0)} MB. API flags (start:api): ${apiFlagsLine}.`,
    '',
    table,
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const files = saveResults('api', { duration, connections, mailboxes: mailboxCount, rows, peakRssMb: peak }, markdown);
  log(`saved ${files.json} and ${files.md}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
