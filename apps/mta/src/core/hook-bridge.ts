import type { SMTPServerDataStream } from 'smtp-server';
import { toSmtpReply } from './smtp-reply';

export type Done = (err?: Error | null, message?: string) => void;

/** Runs an async hook and reports to smtp-server's callback: the one bridge between the two styles. */
export function bridge(work: () => Promise<string | void>, done: Done): void {
  settle(work).then(
    (message) => done(null, message ?? undefined),
    (err: unknown) => done(toSmtpReply(err)),
  );
}

/**
 * The bridge for onData. The stream is drained whatever happened: smtp-server waits for the
 * message's end before it reads the next command, so a handler that gave up early (a spool
 * error) must still let the rest of DATA through.
 */
export function bridgeData(stream: SMTPServerDataStream, work: () => Promise<string>, done: Done): void {
  bridge(async () => {
    try {
      return await work();
    } finally {
      stream.resume();
    }
  }, done);
}

/** The bridge for onAuth, whose callback takes the user as its second argument. */
export function bridgeAuth<T>(
  work: () => Promise<T>,
  done: (err: Error | null | undefined, response?: T) => void,
): void {
  settle(work).then(
    (response) => done(null, response),
    (err: unknown) => done(toSmtpReply(err)),
  );
}

/** A hook that throws before its first await still becomes a reply, not a library crash. */
function settle<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
