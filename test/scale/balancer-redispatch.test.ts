import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@test/support/processes';
import { startHaproxy, type Balancer, type MtaTarget } from './support/haproxy';

/** One SMTP connection through the balancer: the first line the server sends, or '' if none. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    const done = () => resolve(got.split('\r\n')[0] ?? '');
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) socket.end();
    });
    socket.on('close', done);
    socket.on('error', () => undefined);
  });
}

/**
 * compose/haproxy.cfg's `retries` and `option redispatch`: a replica that has just died refuses
 * connections for the seconds its health checks take to call it down. A client sent there in
 * that window must still get a session from the other replica, not a closed socket.
 */
describe('scale: the balancer in front of a replica that just died', () => {
  let balancer: Balancer;
  let smtp: net.Server;
  let health: http.Server;
  let live: MtaTarget;
  let dead: MtaTarget;

  beforeAll(async () => {
    const replica = async (name: string): Promise<MtaTarget> => ({
      name,
      smtp: await freePort(),
      submission: await freePort(),
      submissions: await freePort(),
      health: await freePort(),
    });
    live = await replica('mta-live');
    // Nothing listens on the dead replica's ports: every connection to it is refused.
    dead = await replica('mta-dead');
    // The live replica greets every connection (after the PROXY header, which it ignores).
    smtp = net.createServer((s) => {
      s.on('error', () => undefined);
      s.resume();
      s.end('220 mta-live ESMTP\r\n');
    });
    health = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => smtp.listen(live.smtp, '127.0.0.1', r));
    await new Promise<void>((r) => health.listen(live.health, '127.0.0.1', r));
    balancer = await startHaproxy({ api: [], mta: [live, dead], imap: [] });
  });
  afterAll(async () => {
    await balancer?.stop();
    smtp?.close();
    health?.close();
  });

  it('gives every new connection a live replica before the checks take the dead one out', async () => {
    // The window under test, held open: the checks have not called the dead replica down yet
    // (and a stalled machine cannot make them call the live one down meanwhile).
    for (const server of [dead.name, live.name]) {
      expect((await balancer.command(`disable health smtp/${server}`)).trim()).toBe('');
    }
    const before = await balancer.servers();
    expect(before.find((s) => s.backend === 'smtp' && s.server === dead.name)?.status).toMatch(/^(UP|no check)/);
    const lines = await Promise.all(Array.from({ length: 10 }, () => greeting(balancer.fe.smtp)));
    expect(lines).toEqual(Array.from({ length: 10 }, () => '220 mta-live ESMTP'));
    // Some of them were sent to the dead replica first (so the window was exercised), and each
    // of those was taken to the live one.
    const after = (await balancer.servers()).find((s) => s.backend === 'smtp' && s.server === dead.name)!;
    expect(after.redispatched).toBeGreaterThan(0);
    // And once its checks run again, they take it out of rotation.
    expect((await balancer.command(`enable health smtp/${dead.name}`)).trim()).toBe('');
    await balancer.waitFor('DOWN', dead.name, 10_000);
  });
});
