import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { readProxyHeader } from './proxy-header-reader';
import { ProxyProtocol } from './proxy-policy';
import { encodeProxyV2 } from './proxy-protocol';
import { acceptTls } from './server-tls';
import selfsigned from 'selfsigned';

const servers: net.Server[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server on 127.0.0.1 that hands each accepted socket to `onSocket`. */
async function serve(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onSocket);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(socket));
    clients.push(socket);
    socket.once('error', reject);
  });
}

/** Everything the server side reads after the header, until the client ends. */
function rest(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('end', () => resolve(text));
  });
}

const header = (sourceAddress: string) =>
  encodeProxyV2({ sourceAddress, sourcePort: 40000, destinationAddress: '127.0.0.1', destinationPort: 25 });

describe('readProxyHeader', () => {
  it('reads a header split over many segments and keeps the pipelined bytes after it', async () => {
    const seen = new Promise<{ read: Awaited<ReturnType<typeof readProxyHeader>>; after: string }>((resolve) => {
      void serve(async (socket) => {
        const read = await readProxyHeader(socket, 5_000);
        resolve({ read, after: await rest(socket) });
      }).then(async (port) => {
        const client = await connect(port);
        client.setNoDelay(true);
        const bytes = Buffer.concat([
          Buffer.from('PROXY TCP4 192.0.2.7 127.0.0.1 4000 25\r\nEHLO a\r\nMAIL FROM:<>\r\n'),
        ]);
        // One byte at a time, then the header's last bytes and the commands in one segment.
        for (let i = 0; i < 30; i++) {
          client.write(bytes.subarray(i, i + 1));
          await sleep(2);
        }
        client.end(bytes.subarray(30));
      });
    });
    const { read, after } = await seen;
    expect(read).toMatchObject({ ok: true, header: { command: 'proxy', addresses: { sourceAddress: '192.0.2.7' } } });
    expect(after).toBe('EHLO a\r\nMAIL FROM:<>\r\n');
  });

  it('keeps the TLS ClientHello that arrives in the same segment as a v2 header', async () => {
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048 });
    const context = tls.createSecureContext({ key: pems.private, cert: pems.cert });
    let putBack = -1;
    const got = new Promise<string>((resolve) => {
      void serve(async (socket) => {
        if (!(await readProxyHeader(socket, 5_000)).ok) return socket.destroy();
        // What came in the header's segment (the ClientHello) and was put back.
        putBack = socket.readableLength;
        const secure = await acceptTls(socket, context, 5_000);
        secure?.end('* OK over TLS\r\n');
      }).then(async (port) => {
        const raw = await connect(port);
        // Corked: the header and the ClientHello leave as one segment.
        raw.cork();
        raw.write(header('192.0.2.9'));
        const client = tls.connect({ socket: raw, rejectUnauthorized: false });
        setTimeout(() => raw.uncork(), 20);
        client.on('data', (d: Buffer) => resolve(d.toString()));
      });
    });
    expect(await got).toBe('* OK over TLS\r\n');
    expect(putBack).toBeGreaterThan(0);
  });

  it('gives up at the timeout when the header never completes', async () => {
    const result = new Promise<Awaited<ReturnType<typeof readProxyHeader>>>((resolve) => {
      void serve(async (socket) => resolve(await readProxyHeader(socket, 200))).then(async (port) => {
        const client = await connect(port);
        client.write('PROXY TCP4 192.0.2.7');
      });
    });
    expect(await result).toEqual({ ok: false, reason: 'no complete PROXY header within 200 ms' });
  });

  it('fails when the peer closes before the header is complete', async () => {
    const result = new Promise<Awaited<ReturnType<typeof readProxyHeader>>>((resolve) => {
      void serve(async (socket) => resolve(await readProxyHeader(socket, 5_000))).then(async (port) => {
        (await connect(port)).end(header('192.0.2.7').subarray(0, 20));
      });
    });
    expect(await result).toMatchObject({ ok: false, reason: 'connection closed before a complete PROXY header' });
  });
});

describe('ProxyProtocol', () => {
  const logged: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
  const sut = new ProxyProtocol({ trustedNetworks: ['127.0.0.2/32'], timeoutMs: 1_000, logger, listener: 'test' });

  async function clientSeen(localAddress: string, first: Buffer | string) {
    const seen = new Promise<{
      peer: Awaited<ReturnType<ProxyProtocol['clientOf']>>;
      destroyed: boolean;
      after: string;
    }>((resolve) => {
      void serve(async (socket) => {
        const peer = await sut.clientOf(socket);
        resolve({ peer, destroyed: socket.destroyed, after: peer ? await rest(socket) : '' });
      }).then(async (port) => (await connect(port, localAddress)).end(first));
    });
    return seen;
  }

  it('takes the client from the header of a trusted peer', async () => {
    const seen = await clientSeen('127.0.0.2', Buffer.concat([header('203.0.113.5'), Buffer.from('A1 NOOP\r\n')]));
    expect(seen.peer).toEqual({ address: '203.0.113.5', port: 40000, proxy: '127.0.0.2' });
    expect(seen.after).toBe('A1 NOOP\r\n');
  });

  it('keeps the socket address for a LOCAL header (the proxy health-checking)', async () => {
    const seen = await clientSeen('127.0.0.2', Buffer.concat([encodeProxyV2(null), Buffer.from('QUIT\r\n')]));
    expect(seen.peer).toMatchObject({ address: '127.0.0.2' });
    expect(seen.after).toBe('QUIT\r\n');
  });

  it('closes a trusted peer that sends no header, with a log line', async () => {
    logged.length = 0;
    const seen = await clientSeen('127.0.0.2', 'EHLO direct.example\r\n');
    expect(seen).toMatchObject({ peer: null, destroyed: true });
    const line = JSON.parse(logged.join('')) as Record<string, unknown>;
    expect(line).toMatchObject({ peer: '127.0.0.2', reason: 'not a PROXY protocol header', listener: 'test' });
    expect(line.msg).toMatch(/PROXY protocol header missing or invalid/);
  });

  it('never honours a header from an untrusted peer: its bytes are its own', async () => {
    const spoof = Buffer.concat([header('203.0.113.5'), Buffer.from('A1 NOOP\r\n')]);
    const seen = await clientSeen('127.0.0.3', spoof);
    expect(seen.peer).toMatchObject({ address: '127.0.0.3' });
    expect(Buffer.from(seen.after, 'latin1').equals(spoof)).toBe(true);
  });
});
