import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from '@test/support/redis-cluster';
import pino from 'pino';
import {
  AccessAuthenticator,
  accessOptions,
  appPasswordKey,
  generateAppPassword,
  LoginThrottle,
  loginThrottleOptions,
  RedisCounters,
} from '@mailroom/access';
import { basicMessage } from '@test/support/smtp/harness';
import { RawSmtp } from '@test/support/smtp/smtp-client';
import {
  createSubmissionHarness,
  plainToken,
  rawSession,
  sendError,
  smtplibLogin,
  transport,
  type RunningSubmission,
  type SubmissionHarness,
} from '@test/support/smtp/submission-harness';

const PASSWORD = 'correct horse battery staple';
const INVALID = '535 5.7.8 Authentication credentials invalid';

describe('submission: AUTH', () => {
  let h: SubmissionHarness;
  let mta: RunningSubmission;
  let tenantId: string;
  let domainId: string;

  beforeAll(async () => {
    h = await createSubmissionHarness();
    const acme = await h.seed.hosted('acme.test', []);
    tenantId = acme.tenant.id;
    domainId = acme.domain.id;
    await h.user(tenantId, domainId, 'alice', PASSWORD);
    await h.user(tenantId, domainId, 'nosmtp', PASSWORD, { smtpEnabled: false });
    const walled = await h.seed.hosted('walled.test', []);
    await h.user(walled.tenant.id, walled.domain.id, 'carol', PASSWORD);
    await h.prisma.ipAccessRule.create({
      data: { tenantId: walled.tenant.id, cidr: '127.0.0.0/8', action: 'deny', service: 'submission', priority: 10 },
    });
    mta = await h.start({ LOGIN_MAX_FAILURES: '3' });
  });
  afterAll(async () => h?.close());

  it('refuses AUTH before STARTTLS on the submission port with 538 5.7.0', async () => {
    const client = await RawSmtp.connect(mta.port);
    await client.command('EHLO client.test');
    const sut = await client.command(`AUTH PLAIN ${plainToken('', 'alice@acme.test', PASSWORD)}`);
    expect(sut.text).toBe('538 5.7.0 Must issue a STARTTLS command first');
    client.close();
  });

  it('refuses MAIL without AUTH with 530 5.7.0 Authentication required', async () => {
    const client = await rawSession(mta.port);
    const sut = await client.command('MAIL FROM:<alice@acme.test>');
    expect(sut.text).toBe('530 5.7.0 Authentication required');
    client.close();
  });

  it('answers a wrong password and an unknown user with the same 535 5.7.8', async () => {
    const wrong = await sendError(
      transport(mta.securePort, 'alice@acme.test', 'wrong password').sendMail({
        from: 'alice@acme.test',
        to: 'x@example.net',
        text: 'x',
      }),
    );
    const unknown = await sendError(
      transport(mta.securePort, 'ghost@acme.test', 'wrong password').sendMail({
        from: 'ghost@acme.test',
        to: 'x@example.net',
        text: 'x',
      }),
    );
    expect(wrong).toBe(INVALID);
    expect(unknown).toBe(INVALID);
  });

  it('authenticates with AUTH PLAIN over STARTTLS, the login case-insensitive', async () => {
    const client = await rawSession(mta.port);
    const sut = await client.command(`AUTH PLAIN ${plainToken('', 'Alice@ACME.test', PASSWORD)}`);
    expect(sut.text).toBe('235 2.7.0 Authentication successful');
    client.close();
  });

  it('refuses an authorization identity other than the login with 535 5.7.8', async () => {
    const client = await rawSession(mta.port);
    const sut = await client.command(`AUTH PLAIN ${plainToken('bob@acme.test', 'alice@acme.test', PASSWORD)}`);
    expect(sut.code).toBe(535);
    expect(sut.text).toMatch(/^535 5\.7\.8 .*authorization identity must be empty or equal to the login/);
    const same = await client.command(`AUTH PLAIN ${plainToken('alice@acme.test', 'alice@acme.test', PASSWORD)}`);
    expect(same.code).toBe(235);
    client.close();
  });

  it('refuses a mailbox with submission disabled with a sentence, after the password verified', async () => {
    const client = await rawSession(mta.port);
    const right = await client.command(`AUTH PLAIN ${plainToken('', 'nosmtp@acme.test', PASSWORD)}`);
    expect(right.text).toBe('535 5.7.8 SMTP submission is disabled for this mailbox');
    const wrong = await client.command(`AUTH PLAIN ${plainToken('', 'nosmtp@acme.test', 'nope')}`);
    expect(wrong.text).toBe(INVALID);
    client.close();
  });

  it("refuses an address denied by the tenant's IP rules with a sentence", async () => {
    const sut = await sendError(
      transport(mta.securePort, 'carol@walled.test', PASSWORD).sendMail({
        from: 'carol@walled.test',
        to: 'x@example.net',
        text: 'x',
      }),
    );
    expect(sut).toBe('535 5.7.1 Access denied: your IP address is not allowed to send for this mailbox');
  });

  it('locks an account after repeated failures: then even the right password gets the same 535', async () => {
    await h.user(tenantId, domainId, 'victim', PASSWORD);
    const client = await rawSession(mta.port);
    for (let i = 0; i < 3; i++) {
      expect((await client.command(`AUTH PLAIN ${plainToken('', 'victim@acme.test', `guess ${i}`)}`)).text).toBe(
        INVALID,
      );
    }
    const sut = await client.command(`AUTH PLAIN ${plainToken('', 'victim@acme.test', PASSWORD)}`);
    expect(sut.text).toBe(INVALID);
    // Other spellings of the same login share the lock (a trailing dot, a soft hyphen).
    for (const spelling of ['victim@acme.test.', 'victim@ac\u00ADme.test', 'VICTIM@ACME.TEST']) {
      const again = await client.command(`AUTH PLAIN ${plainToken('', spelling, PASSWORD)}`);
      expect(again.text, spelling).toBe(INVALID);
    }
    client.close();
    // Another account from the same address is not locked by it.
    const other = await rawSession(mta.port);
    expect((await other.command(`AUTH PLAIN ${plainToken('', 'alice@acme.test', PASSWORD)}`)).code).toBe(235);
    other.close();
  });

  it('takes an app password scoped to smtp, and refuses one scoped to imap only with 535 5.7.8', async () => {
    const phone = await h.user(tenantId, domainId, 'phone', PASSWORD);
    const key = appPasswordKey(mta.config.MASTER_KEY);
    const [smtp, imap] = [generateAppPassword(key), generateAppPassword(key)];
    await h.prisma.appPassword.createMany({
      data: [
        { tenantId, mailboxId: phone.id, name: 'mail app', secretHash: smtp.secretHash, protocols: ['smtp', 'imap'] },
        { tenantId, mailboxId: phone.id, name: 'reader', secretHash: imap.secretHash, protocols: ['imap'] },
      ],
    });
    const client = await rawSession(mta.port);
    const sut = await client.command(`AUTH PLAIN ${plainToken('', phone.address, smtp.password)}`);
    expect(sut.text).toBe('235 2.7.0 Authentication successful');
    client.close();
    const refused = await rawSession(mta.port);
    expect((await refused.command(`AUTH PLAIN ${plainToken('', phone.address, imap.password)}`)).text).toBe(INVALID);
    refused.close();
  });

  it('counts failed IMAP logins against SMTP AUTH: the same account is locked on the submission port', async () => {
    const shared = await h.user(tenantId, domainId, 'shared', PASSWORD);
    const redis = connectRedis();
    const logger = pino({ level: 'silent' });
    // What apps/imap builds from the same config: same Redis prefix, so the same counters.
    const imap = new AccessAuthenticator(
      h.prisma,
      new LoginThrottle(new RedisCounters(redis, mta.config.QUEUE_PREFIX, logger), loginThrottleOptions(mta.config)),
      accessOptions(mta.config, logger),
    );
    for (let i = 0; i < 3; i++) {
      await expect(
        imap.authenticate({
          username: shared.address,
          authzid: '',
          password: `guess ${i}`,
          ip: '127.0.0.1',
          service: 'imap',
        }),
      ).rejects.toMatchObject({ reason: 'bad-credentials' });
    }
    redis.disconnect();
    const client = await rawSession(mta.port);
    expect((await client.command(`AUTH PLAIN ${plainToken('', shared.address, PASSWORD)}`)).text).toBe(INVALID);
    client.close();
  });

  it('slows down failures past the third (the schedule itself is in login-throttle.spec.ts)', async () => {
    const slow = await h.start({ LOGIN_MAX_FAILURES: '10' }, { authDelayStepMs: 1_500, authMaxDelayMs: 1_500 });
    const client = await rawSession(slow.port);
    for (let i = 0; i < 3; i++) await client.command(`AUTH PLAIN ${plainToken('', 'slow@acme.test', 'x')}`);
    const started = Date.now();
    const sut = await client.command(`AUTH PLAIN ${plainToken('', 'slow@acme.test', 'x')}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(sut.text).toBe(INVALID);
    client.close();
  });

  it('takes AUTH LOGIN from Python smtplib over STARTTLS and over implicit TLS', async () => {
    for (const [port, secure] of [
      [mta.port, false],
      [mta.securePort, true],
    ] as const) {
      const sut = await smtplibLogin({
        port,
        secure,
        user: 'alice@acme.test',
        password: PASSWORD,
        from: 'alice@acme.test',
        to: ['someone@example.net'],
        message: basicMessage('alice@acme.test', 'someone@example.net', `from python ${port}`),
      });
      expect(sut.auth).toEqual(['LOGIN', 'PLAIN']);
      expect(sut.login).toEqual([235, '2.7.0 Authentication successful']);
      expect(sut.refused).toEqual({});
    }
    const wrong = await smtplibLogin({
      port: mta.securePort,
      secure: true,
      user: 'alice@acme.test',
      password: 'nope',
      from: 'alice@acme.test',
      to: ['someone@example.net'],
      message: 'Subject: x\r\n\r\nx\r\n',
    });
    expect(wrong.error).toEqual([535, '5.7.8 Authentication credentials invalid']);
  });
});
