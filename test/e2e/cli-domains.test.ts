import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { PLATFORM_ZONE } from '@mailroom/dns/testing/plan-fixture';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { APP_ENTRY, appEnv, runNode } from '@test/support/processes';

describe('onboarding CLI: domain:add, domain:zone, domain:verify --wait', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let env: Record<string, string>;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start('');
    env = await appEnv(db.url, {
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      DNS_TIMEOUT_MS: '500',
      SPF_INCLUDE: 'spf.mailroom.test',
    });
    tenantId = (await db.prisma.tenant.create({ data: { name: 'Script Co' } })).id;
  });
  afterAll(async () => {
    await dns?.close();
    await db?.drop();
  });

  const cli = async (...args: string[]) => {
    const proc = runNode(APP_ENTRY.cli, args, env);
    const code = await proc.exited;
    return { code, output: proc.output() };
  };

  it('adds a domain by tenant name and prints the zone to publish', async () => {
    const sut = await cli('domain:add', 'Script Co', 'scripted.example');
    expect(sut.code).toBe(0);
    expect(sut.output).toMatch(/^added scripted\.example \([0-9a-f-]{36}\) to tenant Script Co; status pending$/m);
    expect(sut.output).toMatch(/^scripted\.example\.\s+\d+\s+IN\s+MX\s+10 mx\.mailroom\.test\.$/m);
    expect(await db.prisma.domain.count({ where: { tenantId, name: 'scripted.example' } })).toBe(1);
    const again = await cli('domain:add', tenantId, 'scripted.example');
    expect(again.code).toBe(1);
    expect(again.output).toContain('already hosted on this platform');
  });

  it('verify exits 1 listing the failing records while DNS is not published', async () => {
    const sut = await cli('domain:verify', 'scripted.example');
    expect(sut.code).toBe(1);
    expect(sut.output).toMatch(/^scripted\.example: pending$/m);
    expect(sut.output).toMatch(/missing\s+TXT\s+_mailroom-verify\.scripted\.example: /);
    expect(sut.output).toMatch(/missing\s+MX\s+scripted\.example: /);
  });

  it('verify --wait exits 0 once the zone printed by domain:zone is published', async () => {
    const zone = await cli('domain:zone', 'scripted.example');
    expect(zone.code).toBe(0);
    dns.serve(`${zone.output}\n${PLATFORM_ZONE}\n`);
    const sut = await cli('domain:verify', 'scripted.example', '--wait', '--interval', '1', '--timeout', '30');
    expect(sut.code, sut.output).toBe(0);
    expect(sut.output).toMatch(/^scripted\.example: active$/m);
    const row = await db.prisma.domain.findFirstOrThrow({ where: { name: 'scripted.example' } });
    expect(row.status).toBe('active');
  });

  it('names an unknown tenant or domain', async () => {
    expect((await cli('domain:add', 'Nobody Inc', 'x.example')).output).toContain('No tenant Nobody Inc');
    const missing = await cli('domain:zone', 'unknown.example');
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('No domain unknown.example on this platform.');
  });
});
