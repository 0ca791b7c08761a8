const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * Turns a stored message into the body of a POP3 multi-line reply, chunk by chunk (RFC 1939
 * section 3): line ends normalised to CRLF (a bare LF gets its CR), a line that starts with "."
 * gets a second one, and the reply ends with CRLF.CRLF. For TOP, `bodyLines` limits what follows
 * the header's blank line; `done` then says the rest of the blob need not be read.
 */
export class DotStuffer {
  private atLineStart = true;
  private lastWasCr = false;
  private inBody = false;
  /** Length of the current header line so far: 0 at the blank line that ends the header. */
  private headerLineLength = 0;
  private bodyLinesLeft: number;
  private finished = false;

  constructor(bodyLines: number | null = null) {
    this.bodyLinesLeft = bodyLines ?? Number.POSITIVE_INFINITY;
  }

  /** True once TOP has its lines: the caller stops reading and calls `end()`. */
  get done(): boolean {
    return this.finished;
  }

  /** The wire bytes of one chunk of the stored message. */
  push(chunk: Buffer): Buffer {
    if (this.finished) return Buffer.alloc(0);
    // Worst case every byte is a bare LF or a line-leading dot: twice the input.
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === LF) {
        if (!this.lastWasCr) out[n++] = CR;
        out[n++] = LF;
        this.endLine();
        if (this.finished) break;
        continue;
      }
      if (this.lastWasCr) {
        // A lone CR: kept as it is (Dovecot does the same); it does not end a line.
        this.lastWasCr = false;
      }
      if (this.atLineStart && b === DOT) out[n++] = DOT;
      this.atLineStart = false;
      out[n++] = b;
      if (b === CR) this.lastWasCr = true;
      else if (!this.inBody) this.headerLineLength++;
    }
    return out.subarray(0, n);
  }

  /** What ends the reply: a CRLF when the message lacked a final one, then ".\r\n". */
  end(): Buffer {
    this.finished = true;
    const tail = this.atLineStart ? '' : this.lastWasCr ? '\n' : '\r\n';
    return Buffer.from(`${tail}.\r\n`);
  }

  private endLine(): void {
    this.atLineStart = true;
    this.lastWasCr = false;
    if (this.inBody) {
      this.bodyLinesLeft--;
      if (this.bodyLinesLeft <= 0) this.finished = true;
    } else if (this.headerLineLength === 0) {
      // The empty line ends the header (RFC 5322 section 2.1); TOP sends it, then n body lines.
      this.inBody = true;
      if (this.bodyLinesLeft <= 0) this.finished = true;
    }
    this.headerLineLength = 0;
  }
}
