// A small IMAP client over a raw socket for load generation: one command at a time per
// connection, responses split into lines and literals ({n} then n bytes), literal bytes counted
// and never kept (a FETCH of 10,000 messages costs the client a counter, not 130 MB), so the
// load generator stays cheap and identical for every server it measures.
import net from 'node:net';
import tls from 'node:tls';

const LITERAL = /\{(\d+)\+?\}$/;

export class ImapConnection {
  constructor(socket) {
    this.socket = socket;
    this.pending = null; // the partial line (Buffer) waiting for its CRLF
    this.literalLeft = 0;
    this.response = { lines: [], literalBytes: 0 };
    this.waiter = null; // { tag, resolve, reject, untagged, literalBytes, onContinue }
    this.greeting = null;
    this.closed = false;
    this.tagN = 0;
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      this.closed = true;
      this.fail(new Error('connection closed'));
    });
  }

  /**
   * Connects to 127.0.0.1:`port` and waits for the greeting (* OK ...); with `secure`, over
   * implicit TLS (IMAPS), the certificate not checked (the benchmark's own, self-signed).
   */
  static connect(port, { host = '127.0.0.1', timeoutMs = 60_000, secure = false } = {}) {
    return new Promise((resolve, reject) => {
      const socket = secure
        ? tls.connect({ port, host, rejectUnauthorized: false, servername: 'imap.bench.test' })
        : net.connect({ port, host });
      socket.setNoDelay(true);
      const conn = new ImapConnection(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no greeting from ${host}:${port} after ${timeoutMs} ms`));
      }, timeoutMs);
      conn.waiter = {
        tag: null,
        untagged: [],
        literalBytes: 0,
        resolve: (r) => {
          clearTimeout(timer);
          conn.greeting = r.text;
          resolve(conn);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
  }

  fail(err) {
    const w = this.waiter;
    this.waiter = null;
    if (w) w.reject(err);
  }

  onData(chunk) {
    let off = 0;
    while (off < chunk.length) {
      if (this.literalLeft > 0) {
        const take = Math.min(chunk.length - off, this.literalLeft);
        this.literalLeft -= take;
        this.response.literalBytes += take;
        off += take;
        continue;
      }
      const nl = chunk.indexOf(10, off);
      if (nl < 0) {
        const rest = chunk.subarray(off);
        this.pending = this.pending ? Buffer.concat([this.pending, rest]) : Buffer.from(rest);
        return;
      }
      let line = chunk.subarray(off, nl + 1);
      if (this.pending) {
        line = Buffer.concat([this.pending, line]);
        this.pending = null;
      }
      off = nl + 1;
      this.onLine(line.toString('latin1').replace(/\r?\n$/, ''));
    }
  }

  onLine(text) {
    this.response.lines.push(text);
    const m = LITERAL.exec(text);
    if (m) {
      this.literalLeft = Number(m[1]);
      return;
    }
    const response = this.response;
    this.response = { lines: [], literalBytes: 0 };
    this.onResponse(response);
  }

  onResponse({ lines, literalBytes }) {
    const first = lines[0];
    const w = this.waiter;
    if (!w) return; // unsolicited (e.g. an IDLE update or BYE with nobody waiting)
    if (w.tag === null) {
      // The greeting.
      this.waiter = null;
      if (first.startsWith('* OK') || first.startsWith('* PREAUTH')) w.resolve({ text: first });
      else w.reject(new Error(`greeting: ${first}`));
      return;
    }
    if (first.startsWith('+')) {
      if (w.onContinue) w.onContinue(first);
      return;
    }
    if (first.startsWith('* ')) {
      w.literalBytes += literalBytes;
      if (w.keep(first)) w.untagged.push(lines.join('\n'));
      else w.untaggedCount++;
      return;
    }
    if (first.startsWith(`${w.tag} `)) {
      this.waiter = null;
      const status = first.slice(w.tag.length + 1).split(' ', 1)[0];
      const result = {
        status,
        text: first,
        untagged: w.untagged,
        untaggedCount: w.untaggedCount,
        literalBytes: w.literalBytes,
      };
      if (status === 'OK' || w.acceptNo) w.resolve(result);
      else w.reject(new Error(`${w.command.split(' ', 1)[0]} failed: ${first}`));
    }
  }

  /**
   * Sends one command (no literals) and resolves with { status, text, untagged, untaggedCount,
   * literalBytes } at its tagged reply; rejects on NO/BAD unless `acceptNo`. `keep(line)` says
   * which untagged responses to keep (the rest are only counted); by default all but FETCH.
   */
  command(command, { keep = (line) => !line.includes(' FETCH '), acceptNo = false, onContinue } = {}) {
    if (this.closed) return Promise.reject(new Error('connection closed'));
    if (this.waiter) return Promise.reject(new Error('a command is already running'));
    const tag = `b${++this.tagN}`;
    return new Promise((resolve, reject) => {
      this.waiter = {
        tag,
        command,
        resolve,
        reject,
        keep,
        acceptNo,
        onContinue,
        untagged: [],
        untaggedCount: 0,
        literalBytes: 0,
      };
      this.socket.write(`${tag} ${command}\r\n`);
    });
  }

  /** Quoted string for LOGIN and SEARCH arguments. */
  static quote(s) {
    return `"${String(s).replace(/(["\\])/g, '\\$1')}"`;
  }

  login(user, password) {
    return this.command(`LOGIN ${ImapConnection.quote(user)} ${ImapConnection.quote(password)}`);
  }

  /**
   * Starts IDLE and resolves once the server answers "+ idling"; `done()` ends it (DONE) and
   * resolves at its tagged OK.
   */
  idle() {
    return new Promise((resolve, reject) => {
      const finished = this.command('IDLE', {
        onContinue: () =>
          resolve({
            done: () => {
              this.socket.write('DONE\r\n');
              return finished;
            },
            finished,
          }),
      });
      finished.catch(reject);
    });
  }

  /** LOGOUT, then waits for the server to close; never throws. */
  async logout() {
    try {
      await this.command('LOGOUT');
    } catch {
      // already closed
    }
    this.socket.destroy();
  }

  destroy() {
    this.socket.destroy();
  }
}

/** The numbers of an untagged "* SEARCH 1 2 3" (or ESEARCH ALL 1:3,7) in a command's result. */
export function searchUids(result) {
  const uids = [];
  for (const line of result.untagged) {
    if (line.startsWith('* SEARCH')) {
      for (const t of line.slice(8).trim().split(/\s+/)) if (t) uids.push(Number(t));
    }
  }
  return uids;
}
