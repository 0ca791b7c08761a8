import type { Socket } from 'node:net';
import tls from 'node:tls';

/**
 * The server side of an implicit TLS handshake on an accepted socket (IMAPS, POP3S), for
 * listeners that read a PROXY header first and so cannot be a tls.Server. Null when the
 * handshake fails or does not finish within `timeoutMs`; the socket is then destroyed.
 */
export function acceptTls(
  socket: Socket,
  secureContext: tls.SecureContext,
  timeoutMs: number,
  onFailure?: (err: Error) => void,
): Promise<tls.TLSSocket | null> {
  return new Promise((resolve) => {
    const secure = new tls.TLSSocket(socket, { isServer: true, secureContext });
    // Errors after the handshake belong to the session, which listens itself.
    secure.on('error', () => undefined);
    const fail = (err: Error) => {
      clearTimeout(timer);
      onFailure?.(err);
      secure.destroy();
      socket.destroy();
      resolve(null);
    };
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new Error('closed during the TLS handshake'));
    secure.once('error', onError);
    secure.once('close', onClose);
    secure.once('secure', () => {
      clearTimeout(timer);
      secure.removeListener('error', onError);
      secure.removeListener('close', onClose);
      resolve(secure);
    });
  });
}
