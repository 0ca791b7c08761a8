import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import argon2 from 'argon2';
import { expect } from 'vitest';
import { createApiClient, type ApiClient, type ApiSchema, type ProblemDetails } from '@mailroom/api-client';
import { loadConfig, type Config } from '@mailroom/config';
import { createLogger } from '@mailroom/logger';
import { createApiApp } from '@mailroom/api/bootstrap';
import type { TestDatabase } from '@test/support/database';
import { sharedRedisEnv } from './redis-cluster';

// Tests read response bodies of many shapes; typing each one would only restate the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface TestApi {
  app: INestApplication;
  url: string;
  config: Config;
  close(): Promise<void>;
}

/** Where a client sends its requests: an in-process API, or anything else that serves it (a load balancer). */
export type ApiEndpoint = Pick<TestApi, 'url'>;

/** The real API over HTTP on a free loopback port, against a test database and real Redis. */
export async function startApi(db: TestDatabase, overrides: Record<string, string> = {}): Promise<TestApi> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    ...sharedRedisEnv(),
    QUEUE_PREFIX: `mrtest${randomBytes(4).toString('hex')}`,
    MX_HOSTNAME: 'mx.mailroom.test',
    MASTER_KEY: randomBytes(32).toString('hex'),
    API_RATE_LIMIT_PER_MINUTE: '100000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    ...replicaEnv(db),
    ...overrides,
  });
  const app = await createApiApp(config, createLogger('api', config));
  // A free port unless the test named one (an origin that must be known before start, e.g. WebAuthn's).
  await app.listen(overrides.API_PORT === undefined ? 0 : config.API_PORT, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, config, close: () => app.close() };
}

/**
 * GET `path` from the loopback address `localAddress` (127.0.0.2, ...), so that the API sees that
 * client address; status, headers and body text.
 */
export function getFrom(
  api: ApiEndpoint,
  path: string,
  localAddress: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const { port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path, localAddress, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

/**
 * Under `npm run test:scale`, MAILROOM_TEST_REPLICA_URL names the streaming replica of the shared
 * server (scripts/pg-replica.sh): the API reads its list and read routes from the test database's
 * copy there. A database on another server (a private one) gets no replica.
 */
function replicaEnv(db: TestDatabase): Record<string, string> {
  const base = process.env.MAILROOM_TEST_REPLICA_URL;
  if (!base || new URL(db.url).host !== new URL(process.env.DATABASE_URL!).host) return {};
  const u = new URL(base);
  u.pathname = `/${db.name}`;
  return { DATABASE_REPLICA_URLS: u.toString() };
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** What a typed call (openapi-fetch) answers: the body in `data` or in `error`. */
interface TypedResult<D, E> {
  data?: D;
  error?: E;
  response: Response;
}

/** Asserts the status of a typed call and returns its body, typed as the document says. */
export function expectStatus<D, E>(result: TypedResult<D, E>, status: number): D {
  expect(result.response.status, JSON.stringify(result.error ?? result.data)).toBe(status);
  return result.data as D;
}

type LoginAnswer = ApiSchema<
  'LoginAuthenticatedResponse' | 'LoginMfaRequiredResponse' | 'LoginEnrolmentRequiredResponse'
>;

/** Asserts a login answered 200 with `status` and returns that answer, narrowed. */
export function expectLogin<S extends LoginAnswer['status'], E>(
  result: TypedResult<LoginAnswer, E>,
  status: S,
): Extract<LoginAnswer, { status: S }> {
  const body = expectStatus(result, 200);
  expect(body.status, JSON.stringify(body)).toBe(status);
  return body as Extract<LoginAnswer, { status: S }>;
}

/** Asserts an error status of a typed call and returns its problem+json body. */
export function expectProblem<D, E>(result: TypedResult<D, E>, status: number): ProblemDetails {
  expect(result.response.status, JSON.stringify(result.data ?? result.error)).toBe(status);
  expect(result.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return result.error as ProblemDetails;
}

/**
 * A caller holding one credential (a JWT or an API key).
 *
 * `typed` is the generated client (@mailroom/api-client): paths, parameters, bodies and answers
 * are checked against apps/api/openapi.json at compile time, so a route or DTO that drifts from
 * the committed document fails the typecheck of these tests. Use it for every well-formed call.
 * `request`/`get`/`post`/`patch`/`delete` send raw JSON: only for requests that are wrong on
 * purpose (malformed JSON, wrong content types, unknown or ill-typed fields) or routes whose
 * body is not JSON, which the typed client rightly refuses to send.
 */
export class Client {
  readonly typed: ApiClient;

  constructor(
    readonly api: ApiEndpoint,
    readonly token?: string,
  ) {
    this.typed = createApiClient(api.url, token);
  }

  async request<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpResult<T>> {
    const res = await fetch(this.api.url + path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get = <T = Json>(path: string) => this.request<T>('GET', path);
  post = <T = Json>(path: string, body?: unknown, headers?: Record<string, string>) =>
    this.request<T>('POST', path, body ?? {}, headers);
  patch = <T = Json>(path: string, body: unknown) => this.request<T>('PATCH', path, body);
  delete = <T = Json>(path: string) => this.request<T>('DELETE', path);
}

export const PASSWORD = 'correct horse battery staple';

/** The limits a test may give a new tenant, as the document types them. */
type TenantLimits = NonNullable<ApiSchema<'CreateTenantDto'>['limits']>;

/**
 * Factories for the people and credentials of a test: a platform admin, resellers with an
 * admin, tenants with an admin, a viewer and an API key, all made through the API itself.
 */
export class Session {
  private constructor(
    readonly api: ApiEndpoint,
    readonly db: TestDatabase,
    readonly platform: Client,
  ) {}

  static async create(api: ApiEndpoint, db: TestDatabase): Promise<Session> {
    const email = `root-${randomBytes(4).toString('hex')}@example.com`;
    await db.prisma.adminUser.create({
      data: { email, role: 'platform_admin', passwordHash: await argon2.hash(PASSWORD, { type: argon2.argon2id }) },
    });
    const platform = await Session.login(api, email, PASSWORD);
    return new Session(api, db, platform);
  }

  static async login(api: ApiEndpoint, email: string, password: string): Promise<Client> {
    const { data, error, response } = await new Client(api).typed.POST('/v1/auth/login', { body: { email, password } });
    if (data?.status !== 'authenticated') {
      throw new Error(`login ${email}: ${response.status} ${JSON.stringify(error ?? data)}`);
    }
    return new Client(api, data.accessToken);
  }

  anonymous(): Client {
    return new Client(this.api);
  }

  withToken(token: string): Client {
    return new Client(this.api, token);
  }

  async newReseller(maxTenants: number | null = null): Promise<{ id: string; admin: Client; adminEmail: string }> {
    const r = await this.platform.typed.POST('/v1/resellers', {
      body: { name: `Reseller ${randomBytes(3).toString('hex')}`, maxTenants },
    });
    if (!r.data) throw new Error(`reseller: ${r.response.status} ${JSON.stringify(r.error)}`);
    const resellerId = r.data.id;
    const adminEmail = `reseller-${randomBytes(4).toString('hex')}@example.com`;
    const u = await this.platform.typed.POST('/v1/resellers/{resellerId}/users', {
      params: { path: { resellerId } },
      body: { email: adminEmail, password: PASSWORD },
    });
    if (u.response.status !== 201) throw new Error(`reseller admin: ${u.response.status} ${JSON.stringify(u.error)}`);
    return { id: resellerId, admin: await Session.login(this.api, adminEmail, PASSWORD), adminEmail };
  }

  async newTenant(reseller: { admin: Client }, limits?: TenantLimits) {
    const t = await reseller.admin.typed.POST('/v1/tenants', {
      body: { name: `Tenant ${randomBytes(3).toString('hex')}`, ...(limits ? { limits } : {}) },
    });
    if (!t.data) throw new Error(`tenant: ${t.response.status} ${JSON.stringify(t.error)}`);
    const tenantId = t.data.id;
    const adminEmail = `admin-${randomBytes(4).toString('hex')}@example.com`;
    const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@example.com`;
    for (const [email, role] of [
      [adminEmail, 'tenant_admin'],
      [viewerEmail, 'tenant_viewer'],
    ] as const) {
      const u = await reseller.admin.typed.POST('/v1/tenants/{tenantId}/users', {
        params: { path: { tenantId } },
        body: { email, password: PASSWORD, role },
      });
      if (u.response.status !== 201) throw new Error(`tenant user: ${u.response.status} ${JSON.stringify(u.error)}`);
    }
    const admin = await Session.login(this.api, adminEmail, PASSWORD);
    const key = await admin.typed.POST('/v1/tenants/{tenantId}/api-keys', {
      params: { path: { tenantId } },
      body: {
        name: 'everything',
        scopes: [
          'tenants:read',
          'tenants:write',
          'api-keys:read',
          'api-keys:write',
          'audit-log:read',
          'domains:read',
          'domains:write',
          'mailboxes:read',
          'mailboxes:write',
        ],
      },
    });
    if (!key.data) throw new Error(`api key: ${key.response.status} ${JSON.stringify(key.error)}`);
    return {
      id: tenantId,
      admin,
      adminEmail,
      viewer: await Session.login(this.api, viewerEmail, PASSWORD),
      keyId: key.data.id,
      key: new Client(this.api, key.data.key),
      rawKey: key.data.key,
    };
  }
}

/**
 * An API started with `overrides`, a tenant, and one API key of that tenant made as `keyBody`
 * says: what a test of how the API treats one key from chosen addresses starts from. `path` is
 * the tenant's own resource, a read the key may make with scope tenants:read.
 */
export async function startApiWithTenantKey(
  db: TestDatabase,
  overrides: Record<string, string>,
  keyBody: ApiSchema<'CreateApiKeyDto'>,
): Promise<{ api: TestApi; key: string; path: string }> {
  const api = await startApi(db, overrides);
  const sut = await Session.create(api, db);
  const tenant = await sut.newTenant(await sut.newReseller());
  const created = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/api-keys', {
    params: { path: { tenantId: tenant.id } },
    body: keyBody,
  });
  return { api, key: expectStatus(created, 201).key, path: `/v1/tenants/${tenant.id}` };
}
