import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage } from '@test/support/smtp/harness';
import { RawPop3, plainToken } from '@test/support/pop3/pop3-client';
import { createPop3Harness, type Pop3Harness, type Pop3User } from '@test/support/pop3/pop3-harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The edges of a POP3 session: a handshake that never comes, a revocation racing the login, a lost lock. */
describe('POP3: races at the edges of a session', () => {
  let sut: Pop3Harness;

  beforeAll(async () => {
    sut = await createPop3Harness();
  });
  afterAll(async () => sut?.close());

  async function login(port: number, user: Pop3User): Promise<{ client: RawPop3; reply: string }> {
    const { client } = await RawPop3.connect(port, { tls: true });
    const reply = await client.command(`AUTH PLAIN ${plainToken('', user.address, user.password)}`);
    return { client, reply };
  }

  it('drops a client that sends STLS and then never starts the TLS handshake', async () => {
    const server = await sut.startPop3({ tlsHandshakeMs: 300 });
    const { client } = await RawPop3.connect(server.ports.pop3);
    expect(await client.command('STLS')).toBe('+OK Begin TLS negotiation now.');
    await Promise.race([client.closed, sleep(10_000)]);
    expect(client.isClosed).toBe(true);
  });

  it('ends a login whose mailbox was signed out everywhere after the password check', async () => {
    const user = await sut.user('racer');
    // The revocation commits (and its NOTIFY arrives) between the password check and the
    // moment the session is known to the revocation listener.
    const server = await sut.startPop3({}, (real) => ({
      authenticate: async (attempt) => {
        const who = await real.authenticate(attempt);
        await sut.prisma.$executeRaw`UPDATE mailboxes SET auth_version = auth_version + 1
          WHERE tenant_id = ${user.tenantId}::uuid AND id = ${user.mailboxId}::uuid`;
        await sleep(300);
        return who;
      },
      isCurrent: (u) => real.isCurrent(u),
    }));
    const { client, reply } = await login(server.ports.pop3s, user);
    expect(reply).toBe('-ERR [AUTH] Session ended: access to this mailbox was revoked');
    await Promise.race([client.closed, sleep(5_000)]);
    expect(client.isClosed).toBe(true);
  });

  it('applies no deletion at QUIT when the maildrop lock was lost, and says so', async () => {
    const server = await sut.startPop3({ lockTtlMs: 300 });
    const user = await sut.user('locker');
    const stored = await sut.deliver(user.address, basicMessage('x@example.net', user.address, 'keep me'));
    const { client, reply } = await login(server.ports.pop3s, user);
    expect(reply).toBe('+OK Logged in.');
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    // Redis lost the key (restart without persistence, eviction): another session may take it.
    await sut.redis.del(`${sut.config.QUEUE_PREFIX}:pop3-lock:${user.tenantId}:${user.mailboxId}`);
    await sleep(500);
    expect(await client.command('QUIT')).toBe(
      '-ERR [SYS/TEMP] The mailbox lock was lost; no messages were deleted, try again',
    );
    expect(await sut.prisma.message.count({ where: { id: stored.id } })).toBe(1);
  });
});
