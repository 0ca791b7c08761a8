import type { SMTPServer, SMTPServerSession } from 'smtp-server';
import { isCommandTooLong } from '@mailroom/smtp';
import { ENHANCED_CODE, smtpReply, type SmtpReply } from './smtp-reply';

/** smtp-server's connection class, which the package exports only as a type of its server. */
export type SMTPConnection = SMTPServer['connections'] extends Set<infer C> ? C : never;

export interface SessionLimitOptions {
  hostname: string;
  maxConnectionsPerIp: number;
  maxCommands: number;
  maxErrors: number;
  sessionTimeoutMs: number;
}

interface Counters {
  commands: number;
  errors: number;
  deadline: NodeJS.Timeout;
}

/**
 * smtp-server's maxCommandLength: the longest line its parser buffers. Past it the parser stream
 * fails, which cannot be recovered from, so the library answers 421 and closes. It is set far
 * above the RFC limits, which SessionLimits enforces with 500 5.5.2 (the session goes on), and
 * high enough for AUTH lines with an XOAUTH2 token on the submission ports.
 */
export const HARD_COMMAND_LENGTH = 16 * 1024;

// How often a session past its deadline is looked at again while we owe it a reply (a commit
// in flight): cutting it then would make the sender retry a message we may have stored.
const DEADLINE_RECHECK_MS = 500;

/**
 * The limits smtp-server does not enforce itself: connections per client address, commands and
 * errors per session, and a total session deadline (the idle timeout alone lets a client that
 * drips one byte at a time hold a connection for ever). Counters live only as long as their
 * connection, so memory stays flat whatever clients do.
 */
export class SessionLimits {
  private readonly perIp = new Map<string, number>();
  private readonly admitted = new Set<string>();
  private readonly counters = new Map<string, Counters>();

  constructor(private readonly options: SessionLimitOptions) {}

  /** Counts the connection against its address; the reply to refuse it, or null. */
  admit(session: SMTPServerSession): SmtpReply | null {
    const ip = session.remoteAddress;
    const count = (this.perIp.get(ip) ?? 0) + 1;
    if (count > this.options.maxConnectionsPerIp) {
      return smtpReply(
        421,
        '4.7.0',
        `${this.options.hostname} Too many connections from your address, try again later`,
      );
    }
    this.perIp.set(ip, count);
    this.admitted.add(session.id);
    return null;
  }

  /** Forgets a closed connection. */
  release(session: SMTPServerSession): void {
    const counters = this.counters.get(session.id);
    if (counters) clearTimeout(counters.deadline);
    this.counters.delete(session.id);
    if (!this.admitted.delete(session.id)) return;
    const left = (this.perIp.get(session.remoteAddress) ?? 1) - 1;
    if (left > 0) this.perIp.set(session.remoteAddress, left);
    else this.perIp.delete(session.remoteAddress);
  }

  /** Connections currently counted, for tests and metrics. */
  get openSessions(): number {
    return this.admitted.size;
  }

  /**
   * Wraps one connection's command dispatch and reply writer (smtp-server has no hook for
   * either). Replies whose text already starts with an enhanced status code are sent without the
   * library's generic one, which would otherwise be put in front of ours ("550 5.1.1 5.2.1 ...").
   * Replies made in one turn of the event loop leave in one write (see coalescedWrites).
   */
  attach(connection: SMTPConnection): void {
    const counters: Counters = {
      commands: 0,
      errors: 0,
      deadline: setTimeout(() => this.expire(connection), this.options.sessionTimeoutMs),
    };
    counters.deadline.unref();
    this.counters.set(connection.id, counters);
    const send = connection.send.bind(connection);
    const dispatch = connection._onCommand.bind(connection);
    const close = (text: string) => send(421, `4.7.0 ${this.options.hostname} ${text}, closing connection`, false);

    const flush = coalescedWrites(connection);
    connection.send = (code, data, context) => {
      const own = typeof data === 'string' && ENHANCED_CODE.test(data);
      flush.hold(code);
      send(code, data, own ? false : context);
      flush.release(code);
      if (code === 250 && context === 'DATA_OK') counters.errors = 0;
      // The error limit is for misbehaving clients: our own temporary failures (451 4.3.0 while
      // the database is away, 452 when a mailbox is full) must not hang up on a sender.
      const ours = code === 421 || code === 451 || code === 452;
      if (code >= 400 && !ours && ++counters.errors >= this.options.maxErrors) close('Too many errors');
    };
    connection._onCommand = (command, callback) => {
      if (++counters.commands > this.options.maxCommands) {
        close('Too many commands in one session');
        callback?.();
        return;
      }
      // RFC 5321 §4.5.3.1.4: an overlong line is refused and the session goes on. smtp-server
      // only knows a hard limit (HARD_COMMAND_LENGTH), past which its parser fails for good
      // and it hangs up with 421; below it, our limits apply here. A SASL continuation line
      // (_nextHandler set) is AUTH data, not a command.
      if (!connection._nextHandler && isCommandTooLong(command)) {
        connection.send(500, '5.5.2 Line too long', false);
        callback?.();
        return;
      }
      dispatch(command, callback);
    };
  }

  private expire(connection: SMTPConnection): void {
    // The same test smtp-server's idle timeout makes: a handler, or onData after the message.
    const parser = connection._parser;
    const waitingForUs = connection._handlerPending || (!!connection._dataStream && !!parser && !parser._dataMode);
    if (waitingForUs && this.counters.has(connection.id)) {
      this.counters.get(connection.id)!.deadline = setTimeout(
        () => this.expire(connection),
        DEADLINE_RECHECK_MS,
      ).unref();
      return;
    }
    connection.send(421, `4.4.2 ${this.options.hostname} Session time limit exceeded, closing connection`, false);
  }
}

/**
 * The replies to a client's pipelined commands (RFC 2920: MAIL, every RCPT and DATA in one
 * packet) leave in one write instead of one system call each, as Postfix's smtpd flushes its
 * replies when it has read all the client sent. The socket is corked at a reply and uncorked by
 * a setImmediate: at the end of this turn of the event loop, or, for a reply sent from an
 * immediate callback itself, of the next one. No reply waits for the client's next input (a
 * pending immediate keeps the loop from blocking on I/O); the order is the socket's. A 220 (the
 * greeting, or the go-ahead for STARTTLS, after which the socket is wrapped in TLS) is written at
 * once with anything held before it, so no plaintext is left corked under the TLS wrapper (Node
 * also flushes it correctly when it is: the test of EHLO and STARTTLS in one packet passes either
 * way; this is the plain order of things, not a fix). Ending the socket flushes a corked one
 * (221, 421).
 */
function coalescedWrites(connection: SMTPConnection): { hold(code: number): void; release(code: number): void } {
  let corked: SMTPConnection['_socket'] | null = null;
  const uncork = () => {
    const socket = corked;
    corked = null;
    socket?.uncork();
  };
  return {
    hold(code) {
      const socket = connection._socket;
      if (code === 220 || corked !== null || connection._upgrading || socket.destroyed || !socket.writable) return;
      socket.cork();
      corked = socket;
      setImmediate(uncork);
    },
    release(code) {
      if (code === 220) uncork();
    },
  };
}
