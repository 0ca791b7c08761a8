import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxyHeader } from './proxy-protocol';

export type ProxyRead = { ok: true; header: ProxyHeader } | { ok: false; reason: string };

/**
 * Reads the PROXY header at the start of `socket` within `timeoutMs`. Bytes that arrived with
 * it are put back (`unshift`), so whoever reads next, the SMTP or IMAP parser or a TLS
 * handshake, sees the client's stream from its first byte: a pipelining client or a ClientHello
 * sent in the same segment is not lost. The socket is left paused and otherwise untouched; on
 * failure the caller closes it.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyRead> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (result: ProxyRead, rest?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      socket.removeListener('error', onError);
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const parsed = parseProxyHeader(buffered);
        if (parsed.state === 'invalid') return finish({ ok: false, reason: parsed.reason });
        if (parsed.state === 'done') {
          return finish({ ok: true, header: parsed.header }, buffered.subarray(parsed.length));
        }
      }
    };
    const onEnd = () => finish({ ok: false, reason: 'connection closed before a complete PROXY header' });
    const onError = (err: Error) => finish({ ok: false, reason: `socket error before a PROXY header: ${err.message}` });
    const timer = setTimeout(
      () => finish({ ok: false, reason: `no complete PROXY header within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onError);
  });
}
