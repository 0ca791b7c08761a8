import type net from 'node:net';

/**
 * Resolves when a socket whose write returned false has drained, or has closed. Both listeners
 * go when either fires: `Promise.race` over `events.once` leaves the loser (and an 'error'
 * listener) on the socket, one more per backpressure wait, for the life of a session that
 * streams a large message to a slow reader. With `stallMs`, a client that reads nothing for
 * that long is disconnected, so its session does not linger.
 */
export function drained(socket: net.Socket, stallMs?: number): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = stallMs === undefined ? undefined : setTimeout(() => socket.destroy(), stallMs);
    const done = () => {
      if (timer) clearTimeout(timer);
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
