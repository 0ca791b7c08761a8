import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPop3 } from '@test/support/pop3/pop3-client';
import { PASSWORD, createPop3Harness, type Pop3Harness, type Pop3User } from '@test/support/pop3/pop3-harness';

const TOO_MANY = '-ERR [SYS/TEMP] Too many connections from your IP address (limit 2); close some and try again';

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await registry.getSingleMetric(name)!.get();
  const match = metric.values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return match?.value ?? 0;
}

describe('POP3: connections per IP and metrics', () => {
  let sut: Pop3Harness;
  let alice: Pop3User;

  beforeAll(async () => {
    sut = await createPop3Harness({}, { POP3_MAX_CONNECTIONS_PER_IP: '2' });
    alice = await sut.user('alice');
  });
  afterAll(async () => sut?.close());

  it('refuses a third connection from one address with [SYS/TEMP] and takes it again once one closes', async () => {
    const first = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    const second = await RawPop3.connect(sut.pop3.ports.pop3);
    expect([first.greeting, second.greeting]).toEqual(['+OK Mailroom POP3 ready.', '+OK Mailroom POP3 ready.']);
    const third = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(third.greeting).toBe(TOO_MANY);
    await third.client.closed;
    expect(await metricValue(sut.registry, 'mailroom_pop3_connections_refused_total', { reason: 'per-ip' })).toBe(1);
    expect(await second.client.command('QUIT')).toBe('+OK Logging out.');
    await second.client.closed;
    // The server sees the close a moment after the client does: retry until the slot is free.
    let greeting = TOO_MANY;
    for (let i = 0; i < 50 && greeting === TOO_MANY; i++) {
      const next = await RawPop3.connect(sut.pop3.ports.pop3);
      greeting = next.greeting;
      next.client.close();
    }
    expect(greeting).toBe('+OK Mailroom POP3 ready.');
    first.client.close();
  });

  it('counts sessions, logins by result and commands by name', async () => {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    expect(await metricValue(sut.registry, 'mailroom_pop3_sessions')).toBeGreaterThanOrEqual(1);
    await client.command(`USER ${alice.address}`);
    expect(await client.command('PASS wrong')).toBe('-ERR [AUTH] Authentication failed');
    await client.command(`USER ${alice.address}`);
    expect(await client.command(`PASS ${PASSWORD}`)).toBe('+OK Logged in.');
    expect(await client.command('STAT')).toBe('+OK 0 0');
    expect(await client.command('FROB')).toBe('-ERR Unknown command.');
    expect(await client.command('QUIT')).toBe('+OK Logging out.');
    await client.closed;
    const registry = sut.registry;
    expect(await metricValue(registry, 'mailroom_pop3_logins_total', { result: 'ok' })).toBe(1);
    expect(await metricValue(registry, 'mailroom_pop3_logins_total', { result: 'bad-credentials' })).toBe(1);
    expect(await metricValue(registry, 'mailroom_pop3_commands_total', { command: 'USER' })).toBe(2);
    expect(await metricValue(registry, 'mailroom_pop3_commands_total', { command: 'STAT' })).toBe(1);
    expect(await metricValue(registry, 'mailroom_pop3_commands_total', { command: 'unknown' })).toBe(1);
  });
});
