import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import argon2 from 'argon2';
import { loadConfig, type Config } from '@mailroom/config';
import { createLogger } from '@mailroom/logger';
import { createApiApp } from '../../apps/api/src/bootstrap';
import type { TestDatabase } from './database';

// Tests read response bodies of many shapes; typing each one would only restate the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface TestApi {
  app: INestApplication;
  url: string;
  config: Config;
  close(): Promise<void>;
}

/** The real API over HTTP on a free loopback port, against a test database and real Redis. */
export async function startApi(db: TestDatabase, overrides: Record<string, string> = {}): Promise<TestApi> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    REDIS_URL: process.env.REDIS_URL!,
    QUEUE_PREFIX: `mrtest${randomBytes(4).toString('hex')}`,
    MX_HOSTNAME: 'mx.mailroom.test',
    MASTER_KEY: randomBytes(32).toString('hex'),
    API_RATE_LIMIT_PER_MINUTE: '100000',
    LOGIN_MAX_FAILURES_PER_IP: '100000',
    ...overrides,
  });
  const app = await createApiApp(config, createLogger('api', config));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, config, close: () => app.close() };
}

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A caller holding one credential (a JWT or an API key). */
export class Client {
  constructor(
    readonly api: TestApi,
    readonly token?: string,
  ) {}

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

/**
 * Factories for the people and credentials of a test: a platform admin, resellers with an
 * admin, tenants with an admin, a viewer and an API key, all made through the API itself.
 */
export class Session {
  private constructor(
    readonly api: TestApi,
    readonly db: TestDatabase,
    readonly platform: Client,
  ) {}

  static async create(api: TestApi, db: TestDatabase): Promise<Session> {
    const email = `root-${randomBytes(4).toString('hex')}@example.com`;
    await db.prisma.adminUser.create({
      data: { email, role: 'platform_admin', passwordHash: await argon2.hash(PASSWORD, { type: argon2.argon2id }) },
    });
    const platform = await Session.login(api, email, PASSWORD);
    return new Session(api, db, platform);
  }

  static async login(api: TestApi, email: string, password: string): Promise<Client> {
    const res = await new Client(api).post<{ accessToken: string }>('/v1/auth/login', { email, password });
    if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${JSON.stringify(res.body)}`);
    return new Client(api, res.body.accessToken);
  }

  anonymous(): Client {
    return new Client(this.api);
  }

  withToken(token: string): Client {
    return new Client(this.api, token);
  }

  async newReseller(maxTenants: number | null = null): Promise<{ id: string; admin: Client; adminEmail: string }> {
    const r = await this.platform.post<{ id: string }>('/v1/resellers', {
      name: `Reseller ${randomBytes(3).toString('hex')}`,
      maxTenants,
    });
    if (r.status !== 201) throw new Error(`reseller: ${r.status} ${JSON.stringify(r.body)}`);
    const adminEmail = `reseller-${randomBytes(4).toString('hex')}@example.com`;
    const u = await this.platform.post(`/v1/resellers/${r.body.id}/users`, { email: adminEmail, password: PASSWORD });
    if (u.status !== 201) throw new Error(`reseller admin: ${u.status} ${JSON.stringify(u.body)}`);
    return { id: r.body.id, admin: await Session.login(this.api, adminEmail, PASSWORD), adminEmail };
  }

  async newTenant(reseller: { admin: Client }, limits?: Record<string, number>) {
    const t = await reseller.admin.post<{ id: string }>('/v1/tenants', {
      name: `Tenant ${randomBytes(3).toString('hex')}`,
      ...(limits ? { limits } : {}),
    });
    if (t.status !== 201) throw new Error(`tenant: ${t.status} ${JSON.stringify(t.body)}`);
    const tenantId = t.body.id;
    const adminEmail = `admin-${randomBytes(4).toString('hex')}@example.com`;
    const viewerEmail = `viewer-${randomBytes(4).toString('hex')}@example.com`;
    for (const [email, role] of [
      [adminEmail, 'tenant_admin'],
      [viewerEmail, 'tenant_viewer'],
    ] as const) {
      const u = await reseller.admin.post(`/v1/tenants/${tenantId}/users`, { email, password: PASSWORD, role });
      if (u.status !== 201) throw new Error(`tenant user: ${u.status} ${JSON.stringify(u.body)}`);
    }
    const admin = await Session.login(this.api, adminEmail, PASSWORD);
    const key = await admin.post<{ id: string; key: string }>(`/v1/tenants/${tenantId}/api-keys`, {
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
    });
    if (key.status !== 201) throw new Error(`api key: ${key.status} ${JSON.stringify(key.body)}`);
    return {
      id: tenantId,
      admin,
      adminEmail,
      viewer: await Session.login(this.api, viewerEmail, PASSWORD),
      keyId: key.body.id,
      key: new Client(this.api, key.body.key),
      rawKey: key.body.key,
    };
  }
}
