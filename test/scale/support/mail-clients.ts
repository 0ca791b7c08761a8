import { ImapFlow } from 'imapflow';
import { submissionTransport } from '@test/support/smtp/submission-transport';
import { RawPop3 } from '@test/support/pop3/pop3-client';

/** A logged-in imapflow client over implicit TLS to 127.0.0.1:`port`. */
async function imaps(port: number, user: string, pass: string): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass },
    logger: false,
  });
  await client.connect();
  return client;
}

/**
 * The subjects in a mailbox's INBOX over IMAP (implicit TLS on `port`), counted: what a mail
 * client sees, whichever IMAP process the balancer picked.
 */
export async function subjectsOverImap(port: number, user: string, pass: string): Promise<Map<string, number>> {
  const client = await imaps(port, user, pass);
  const counts = new Map<string, number>();
  try {
    const box = await client.mailboxOpen('INBOX', { readOnly: true });
    if (box.exists > 0) {
      for await (const msg of client.fetch('1:*', { envelope: true })) {
        const subject = msg.envelope?.subject ?? '';
        counts.set(subject, (counts.get(subject) ?? 0) + 1);
      }
    }
  } finally {
    await client.logout();
  }
  return counts;
}

/** The topmost Received header of the INBOX's first message, over IMAP (implicit TLS on `port`). */
export async function topReceivedOverImap(port: number, user: string, pass: string): Promise<string> {
  const client = await imaps(port, user, pass);
  try {
    await client.mailboxOpen('INBOX', { readOnly: true });
    const msg = await client.fetchOne('1', { headers: ['received'] });
    const headers = msg && msg.headers ? msg.headers.toString('utf8') : '';
    return headers.split(/\r?\n(?=\S)/)[0] ?? '';
  } finally {
    await client.logout();
  }
}

/** POP3 over implicit TLS on `port`: STAT's count, and the Subject line of the last message. */
export async function pop3Look(
  port: number,
  user: string,
  pass: string,
): Promise<{ count: number; lastSubject: string }> {
  const { client, greeting } = await RawPop3.connect(port, { tls: true });
  try {
    if (!greeting.startsWith('+OK')) throw new Error(`POP3 greeting: ${greeting}`);
    await client.command(`USER ${user}`);
    const pass1 = await client.command(`PASS ${pass}`);
    if (!pass1.startsWith('+OK')) throw new Error(`POP3 PASS: ${pass1}`);
    const stat = await client.command('STAT');
    const count = Number(/^\+OK (\d+) /.exec(stat)?.[1] ?? NaN);
    const top = await client.multi(`TOP ${count} 0`);
    const lastSubject = top.lines.find((l) => /^subject:/i.test(l))?.replace(/^subject:\s*/i, '') ?? '';
    await client.command('QUIT');
    return { count, lastSubject };
  } finally {
    client.close();
  }
}

export interface Submitted {
  index: number;
  response: string;
}

/**
 * `count` messages submitted by `user` through the balancer's implicit-TLS submission port, over
 * `lanes` pooled sessions, each message to `u<i>@dest0.example` and `u<i>@dest1.example`. A
 * message whose submission failed is tried again (up to three times), as a mail client would.
 */
export async function submitMany(
  port: number,
  user: string,
  pass: string,
  count: number,
  lanes: number,
): Promise<Map<number, Submitted>> {
  const results = new Map<number, Submitted>();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const transport = submissionTransport(port, user, pass);
      try {
        for (let i = lane; i < count; i += lanes) {
          let response = '';
          for (let attempt = 0; attempt < 3 && !/^250 /.test(response); attempt++) {
            try {
              const info = await transport.sendMail({
                from: user,
                to: [`u${i}@dest0.example`, `u${i}@dest1.example`],
                subject: `submit ${i}`,
                text: `Submitted message ${i}.`,
              });
              response = info.response;
            } catch (err) {
              response = String(err);
            }
          }
          results.set(i, { index: i, response });
        }
      } finally {
        transport.close();
      }
    }),
  );
  return results;
}
