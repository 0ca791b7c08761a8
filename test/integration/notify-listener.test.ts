import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotifyListener } from '@mailroom/db';
import { createTestDatabase, type TestDatabase } from '@test/support/database';

/**
 * A TCP proxy to PostgreSQL whose open connections can be frozen: bytes stop flowing both ways
 * and nothing is closed or reset, as on a half-open link (a dropped route, a NAT that forgot it).
 * Connections made after a freeze flow again.
 */
async function freezableProxy(target: URL) {
  const open: Array<{ frozen: boolean; sockets: net.Socket[] }> = [];
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    const pair = { frozen: false, sockets: [client, upstream] };
    open.push(pair);
    client.on('data', (d) => void (pair.frozen || upstream.write(d)));
    upstream.on('data', (d) => void (pair.frozen || client.write(d)));
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    freeze: () => open.forEach((pair) => (pair.frozen = true)),
    close: () => {
      open.forEach((pair) => pair.sockets.forEach((s) => s.destroy()));
      server.close();
    },
  };
}

async function until(check: () => boolean, ms = 5_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

describe('NotifyListener', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('counts a connection that stops hearing (no error, no close) as lost, and reconnects', async () => {
    const url = new URL(db.url);
    const proxy = await freezableProxy(new URL(db.url));
    url.host = `127.0.0.1:${proxy.port}`;
    const events: string[] = [];
    const listener = new NotifyListener({
      url: url.toString(),
      channels: ['mailroom_test_channel'],
      name: 'mailroom-test-listen',
      logger: pino({ enabled: false }),
      onNotify: (_channel, payload) => events.push(`notify ${payload}`),
      onConnect: () => events.push('connect'),
      onDisconnect: () => events.push('disconnect'),
      probeEveryMs: 200,
      retryMs: 100,
    });
    try {
      await listener.start();
      expect(events).toEqual(['connect']);
      await db.prisma.$queryRaw`SELECT pg_notify('mailroom_test_channel', 'one')::text`;
      expect(await until(() => events.includes('notify one'))).toBe(true);
      // Several probes pass unseen by onNotify while all is well.
      await sleep(700);
      expect(events).toEqual(['connect', 'notify one']);

      proxy.freeze();
      expect(await until(() => events.includes('disconnect'))).toBe(true);
      expect(await until(() => events.filter((e) => e === 'connect').length === 2)).toBe(true);
      await db.prisma.$queryRaw`SELECT pg_notify('mailroom_test_channel', 'two')::text`;
      expect(await until(() => events.includes('notify two'))).toBe(true);
      expect(events).toEqual(['connect', 'notify one', 'disconnect', 'connect', 'notify two']);
    } finally {
      await listener.close();
      proxy.close();
    }
  });
});
