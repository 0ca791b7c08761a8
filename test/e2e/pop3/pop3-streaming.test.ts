import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '@test/support/smtp/harness';
import { RawPop3, plainToken } from '@test/support/pop3/pop3-client';
import { createPop3Harness, type Pop3Harness, type Pop3User } from '@test/support/pop3/pop3-harness';

function msg(subject: string, body = 'Hello.'): string {
  return message(
    { From: 'x@example.net', To: 'y@acme.test', Subject: subject, 'Message-ID': `<${subject.replace(/\W/g, '')}@t>` },
    body,
  );
}

describe('POP3: large messages and slow clients', () => {
  let sut: Pop3Harness;

  beforeAll(async () => {
    sut = await createPop3Harness();
  });
  afterAll(async () => sut?.close());

  async function login(user: Pop3User): Promise<RawPop3> {
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    const reply = await client.command(`AUTH PLAIN ${plainToken('', user.address, user.password)}`);
    if (reply !== '+OK Logged in.') throw new Error(reply);
    return client;
  }

  it('streams a 4 MB message intact, and a client that does not read stalls only itself', async () => {
    // The server runs in this process: a listener left on its socket per backpressure wait
    // shows up as Node's MaxListenersExceededWarning.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const big = await sut.user('big');
    const line = `${'x'.repeat(70)}\r\n.${'y'.repeat(70)}\r\n`;
    const stored = await sut.deliver(big.address, msg('big', line.repeat(Math.ceil(4_000_000 / line.length))));
    const other = await sut.user('other');
    await sut.deliver(other.address, msg('small'));
    // A RETR whose reply nobody reads: the server waits on the socket, not on memory.
    const stalled = await login(big);
    stalled.pauseReading();
    stalled.write('RETR 1\r\n');
    await new Promise((r) => setTimeout(r, 500));
    const meanwhile = await login(other);
    expect(await meanwhile.command('STAT')).toMatch(/^\+OK 1 /);
    meanwhile.close();
    stalled.resumeReading();
    const retr = await stalled.readMulti();
    expect(retr.status).toBe(`+OK ${stored.blob.length} octets`);
    expect(Buffer.from(retr.body.toString('latin1').replace(/^\./gm, ''), 'latin1').equals(stored.blob)).toBe(true);
    expect(await stalled.command('NOOP')).toBe('+OK');
    stalled.close();
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });

  it('answers 10,000 pipelined commands while another session is served promptly', async () => {
    const u = await sut.user('flood');
    await sut.deliver(u.address, msg('flood'));
    const other = await sut.user('calm');
    const flood = await login(u);
    flood.write('NOOP\r\n'.repeat(10_000));
    const calm = await login(other);
    expect(await calm.command('STAT')).toBe('+OK 0 0');
    calm.close();
    for (let i = 0; i < 10_000; i++) expect(await flood.line()).toBe('+OK');
    flood.close();
  });
});
