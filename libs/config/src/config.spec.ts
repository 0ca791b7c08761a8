import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDnsServer } from './index';

const valid = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/mailroom',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MX_HOSTNAME: 'mx.example.net',
  MASTER_KEY: 'a'.repeat(64),
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('parses a minimal environment and fills the documented defaults', () => {
    const sut = loadConfig(valid);
    expect(sut.API_PORT).toBe(3000);
    expect(sut.SMTP_PORT).toBe(2525);
    expect(sut.SMTP_DELIVERY_PORT).toBe(25);
    expect(sut.MASTER_KEY).toHaveLength(32);
    expect(sut.DNS_SERVERS).toEqual([]);
    expect(sut.SCHEDULES_ENABLED).toBe(true);
    expect(sut.DELIVERY_EVENT_RETENTION_DAYS).toBe(90);
    expect(sut.WEBHOOK_LOG_RETENTION_DAYS).toBe(30);
    expect(sut.JOB_RUN_RETENTION_DAYS).toBe(90);
    expect(sut.BLOB_GC_GRACE_MINUTES).toBe(60);
    expect(sut.BLOB_SWEEP_INTERVAL_HOURS).toBe(24);
    expect(sut.BLOB_SWEEP_MIN_AGE_HOURS).toBe(24);
    expect(sut.FORWARD_DELIVERY_MAX_AGE_HOURS).toBe(120);
  });

  it.each([
    ['DATABASE_URL', { DATABASE_URL: undefined }, /DATABASE_URL: required/],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgresql/],
    ['REDIS_URL', { REDIS_URL: undefined }, /REDIS_URL: required/],
    ['MX_HOSTNAME', { MX_HOSTNAME: 'localhost' }, /MX_HOSTNAME: must be a fully qualified host name/],
    ['MASTER_KEY', { MASTER_KEY: 'short' }, /MASTER_KEY: must be 32 bytes .*got 3 bytes/],
    ['API_PORT', { API_PORT: '70000' }, /API_PORT: /],
    ['API_PORT', { API_PORT: 'eighty' }, /API_PORT: /],
    ['DNS_SERVERS', { DNS_SERVERS: '127.0.0.1:53,nonsense' }, /DNS_SERVERS: "nonsense" is not an IP address/],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }, /LOG_LEVEL: /],
    ['DELIVERY_EVENT_RETENTION_DAYS', { DELIVERY_EVENT_RETENTION_DAYS: '0' }, /DELIVERY_EVENT_RETENTION_DAYS: /],
    ['BLOB_GC_GRACE_MINUTES', { BLOB_GC_GRACE_MINUTES: 'soon' }, /BLOB_GC_GRACE_MINUTES: /],
    ['BLOB_SWEEP_MIN_AGE_HOURS', { BLOB_SWEEP_MIN_AGE_HOURS: '0' }, /BLOB_SWEEP_MIN_AGE_HOURS: /],
  ])('names %s when it is wrong', (name, change, message) => {
    const found = problems({ ...valid, ...change });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
    expect(found[0]!.startsWith(`${name}: `)).toBe(true);
  });

  it('reports each wrong variable once, on its own line', () => {
    const found = problems({ REDIS_URL: valid.REDIS_URL, MX_HOSTNAME: valid.MX_HOSTNAME });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'MASTER_KEY']);
  });

  it('reads Redis Cluster seed nodes, which make REDIS_URL optional', () => {
    const nodes = '127.0.0.1:7001, redis-b.internal:7002,[::1]:7003';
    const sut = loadConfig({ ...valid, REDIS_URL: undefined, REDIS_CLUSTER_NODES: nodes });
    expect(sut.REDIS_URL).toBeUndefined();
    expect(sut.REDIS_CLUSTER_NODES).toEqual([
      { host: '127.0.0.1', port: 7001 },
      { host: 'redis-b.internal', port: 7002 },
      { host: '::1', port: 7003 },
    ]);
    expect(loadConfig(valid).REDIS_CLUSTER_NODES).toBeUndefined();
  });

  it.each([['127.0.0.1'], ['127.0.0.1:0'], ['127.0.0.1:7001,redis://x:1'], [',']])(
    'names REDIS_CLUSTER_NODES when it is %j',
    (nodes) => {
      expect(problems({ ...valid, REDIS_CLUSTER_NODES: nodes })).toEqual([
        expect.stringMatching(/^REDIS_CLUSTER_NODES: /),
      ]);
    },
  );

  it('reads DATABASE_REPLICA_URLS as a list, empty when unset', () => {
    const urls = 'postgresql://r1:5432/mailroom, postgres://r2/mailroom';
    expect(loadConfig({ ...valid, DATABASE_REPLICA_URLS: urls }).DATABASE_REPLICA_URLS).toEqual([
      'postgresql://r1:5432/mailroom',
      'postgres://r2/mailroom',
    ]);
    expect(loadConfig(valid).DATABASE_REPLICA_URLS).toEqual([]);
    expect(problems({ ...valid, DATABASE_REPLICA_URLS: 'postgresql://r1/m,redis://x' })).toEqual([
      expect.stringMatching(/^DATABASE_REPLICA_URLS: /),
    ]);
  });

  it('names REDIS_URL with the other problems when neither Redis setting is there', () => {
    const found = problems({ MX_HOSTNAME: valid.MX_HOSTNAME, MASTER_KEY: valid.MASTER_KEY });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'REDIS_URL']);
    expect(found.find((p) => p.startsWith('REDIS_URL'))).toMatch(/or REDIS_CLUSTER_NODES/);
  });

  it('treats a blank value as unset, so the default applies', () => {
    expect(loadConfig({ ...valid, API_PORT: '' }).API_PORT).toBe(3000);
  });

  it('keeps bodies in PostgreSQL by default and needs S3_BUCKET for BLOB_STORE=s3', () => {
    expect(loadConfig(valid)).toMatchObject({
      BLOB_STORE: 'db',
      BLOB_S3_MIN_BYTES: 65_536,
      S3_FORCE_PATH_STYLE: false,
    });
    expect(problems({ ...valid, BLOB_STORE: 's3' })).toEqual(['S3_BUCKET: required when BLOB_STORE=s3']);
    expect(problems({ ...valid, BLOB_STORE: 's3', S3_BUCKET: 'No_Such' })[0]).toMatch(
      /^S3_BUCKET: must be an S3 bucket/,
    );
    const s3 = loadConfig({
      ...valid,
      BLOB_STORE: 's3',
      S3_BUCKET: 'mail-bodies',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
      BLOB_S3_MIN_BYTES: '0',
    });
    expect(s3).toMatchObject({
      BLOB_STORE: 's3',
      S3_BUCKET: 'mail-bodies',
      S3_FORCE_PATH_STYLE: true,
      BLOB_S3_MIN_BYTES: 0,
    });
  });

  it('requires a certificate in production', () => {
    expect(problems({ ...valid, NODE_ENV: 'production' })[0]).toMatch(/^TLS_CERT_PATH: required in production/);
    expect(loadConfig({ ...valid, NODE_ENV: 'production', TLS_CERT_PATH: '/c', TLS_KEY_PATH: '/k' }).NODE_ENV).toBe(
      'production',
    );
  });

  it('reads PROXY_PROTOCOL_TRUSTED_NETWORKS as normalized CIDRs, off (empty) by default', () => {
    expect(loadConfig(valid).PROXY_PROTOCOL_TRUSTED_NETWORKS).toEqual([]);
    expect(loadConfig(valid).PROXY_PROTOCOL_TIMEOUT_MS).toBe(5_000);
    const sut = loadConfig({ ...valid, PROXY_PROTOCOL_TRUSTED_NETWORKS: ' 172.28.0.0/24, 10.0.0.5 ,2001:DB8::/32' });
    expect(sut.PROXY_PROTOCOL_TRUSTED_NETWORKS).toEqual(['172.28.0.0/24', '10.0.0.5/32', '2001:db8::/32']);
    expect(problems({ ...valid, PROXY_PROTOCOL_TRUSTED_NETWORKS: '10.0.0.1/8' })).toEqual([
      expect.stringMatching(/^PROXY_PROTOCOL_TRUSTED_NETWORKS: "10.0.0.1\/8": host bits are set/),
    ]);
  });

  it('reads TRUST_PROXY as a boolean as before, or as a list of proxies', () => {
    expect(loadConfig(valid).TRUST_PROXY).toBe(false);
    expect(loadConfig({ ...valid, TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ ...valid, TRUST_PROXY: 'no' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ ...valid, TRUST_PROXY: '172.28.0.0/24,loopback, 10.1.2.3' }).TRUST_PROXY).toEqual([
      '172.28.0.0/24',
      'loopback',
      '10.1.2.3/32',
    ]);
    expect(problems({ ...valid, TRUST_PROXY: 'maybe' })).toEqual([expect.stringMatching(/^TRUST_PROXY: "maybe"/)]);
  });

  it('reads WORKER_PROCESSES: 1 by default, a number, or auto (one per core); refuses 0 and words', () => {
    expect(loadConfig(valid).WORKER_PROCESSES).toBe(1);
    expect(loadConfig({ ...valid, WORKER_PROCESSES: '4' }).WORKER_PROCESSES).toBe(4);
    expect(loadConfig({ ...valid, WORKER_PROCESSES: 'auto' }).WORKER_PROCESSES).toBe(os.availableParallelism());
    for (const bad of ['0', '65', 'many', '1.5']) {
      expect(problems({ ...valid, WORKER_PROCESSES: bad })).toEqual([expect.stringMatching(/^WORKER_PROCESSES: /)]);
    }
  });

  it("reads WORKER_LOCK_MS: 30 s by default (BullMQ's), at least 5 s", () => {
    expect(loadConfig(valid).WORKER_LOCK_MS).toBe(30_000);
    expect(loadConfig({ ...valid, WORKER_LOCK_MS: '10000' }).WORKER_LOCK_MS).toBe(10_000);
    for (const bad of ['4999', '600001', 'soon']) {
      expect(problems({ ...valid, WORKER_LOCK_MS: bad })).toEqual([expect.stringMatching(/^WORKER_LOCK_MS: /)]);
    }
  });

  it('accepts a base64 master key', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(loadConfig({ ...valid, MASTER_KEY: key }).MASTER_KEY.equals(Buffer.alloc(32, 7))).toBe(true);
  });
});

describe('parseDnsServer', () => {
  it.each([
    ['127.0.0.1', { host: '127.0.0.1', port: 53 }],
    ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353 }],
    ['::1', { host: '::1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: 53 }],
  ])('parses %s', (entry, expected) => {
    expect(parseDnsServer(entry)).toEqual(expected);
  });

  it.each(['300.1.1.1', '1.2.3.4:0', '1.2.3.4:70000', 'dns.google', ''])('refuses %s', (entry) => {
    expect(parseDnsServer(entry)).toBeNull();
  });
});
