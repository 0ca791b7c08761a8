import type { WireValue } from './imap-arg';

/** A piece of a response: bytes, or a literal's body streamed in chunks with backpressure. */
export type WireSegment = Buffer | { stream: () => AsyncIterable<Buffer>; length: number };

// Quoted strings stay short and plain; anything else goes as a literal (RFC 9051 §4.3).
const MAX_QUOTED = 1000;
// NUL, CR, LF never go quoted; without UTF8=ACCEPT neither does 8-bit text (RFC 6855 §3).
const UNQUOTABLE = /[\0\r\n]/;
const UNQUOTABLE_7BIT = /[\0\r\n\u0080-\uffff]/;

/**
 * Encodes values separated by spaces (the tail of an untagged response). Strings are quoted
 * when they can be, else sent as literals; UTF-8 is quoted only for UTF8=ACCEPT sessions
 * (RFC 6855 §3), otherwise it goes as an 8-bit literal, which IMAP4rev1 clients read.
 */
export function encodeValues(values: WireValue[], utf8: boolean): WireSegment[] {
  const out = new Encoder(utf8);
  values.forEach((v, i) => {
    if (i > 0) out.text(' ');
    out.value(v);
  });
  return out.finish();
}

/**
 * A whole response line: `prefix`, then a space and the values when there are any, then CRLF.
 * Everything up to a streamed literal is one buffer, so a response without streams is one write.
 */
export function encodeResponse(prefix: string, values: WireValue[], utf8: boolean): WireSegment[] {
  const out = new Encoder(utf8);
  out.text(prefix);
  for (const v of values) {
    out.text(' ');
    out.value(v);
  }
  out.text('\r\n');
  return out.finish();
}

/** A quoted string or literal for one text value (mailbox names, header values). */
export function encodeString(value: string | Buffer, utf8: boolean): WireSegment[] {
  return encodeValues([value], utf8);
}

/**
 * Collects the segments of several responses, so that they go out in one corked socket write
 * (one writev: TLS joins them natively into its records) instead of one write per response.
 * Bytes are never concatenated here: a Buffer.concat per batch allocated the whole FETCH's bytes
 * again, and that external memory drove the garbage collector (docs/performance.md).
 */
export class SegmentBatch {
  private readonly segments: WireSegment[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Bytes waiting to be joined (streams are not counted: they are read while written). */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  get isEmpty(): boolean {
    return this.segments.length === 0 && this.pending.length === 0;
  }

  add(segments: WireSegment[]): void {
    for (const seg of segments) {
      if (Buffer.isBuffer(seg)) {
        this.pending.push(seg);
        this.pendingBytes += seg.length;
      } else {
        this.join();
        this.segments.push(seg);
      }
    }
  }

  /** The joined segments; the batch is empty afterwards. */
  take(): WireSegment[] {
    this.join();
    return this.segments.splice(0);
  }

  private join(): void {
    for (const b of this.pending) this.segments.push(b);
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Text is gathered as a string and turned into bytes once, next to each literal's bytes. */
class Encoder {
  private readonly segments: WireSegment[] = [];
  private pending: Buffer[] = [];
  private chars = '';

  constructor(private readonly utf8: boolean) {}

  text(s: string): void {
    this.chars += s;
  }

  value(v: WireValue): void {
    if (v === null) return this.text('NIL');
    if (typeof v === 'number' || typeof v === 'bigint') return this.text(String(v));
    if (typeof v === 'string') return this.string(v);
    if (Buffer.isBuffer(v)) return this.literal(v);
    if (Array.isArray(v)) return this.list(v);
    if ('atom' in v) return this.text(v.atom);
    // A decoded BINARY section may hold NUL: literal8 (RFC 3516 §4.2).
    const binary = 'binary' in v && v.binary === true;
    this.text(`${binary ? '~' : ''}{${v.length}}\r\n`);
    this.flush();
    this.segments.push(v);
  }

  finish(): WireSegment[] {
    this.flush();
    return this.segments;
  }

  private list(items: WireValue[]): void {
    this.text('(');
    items.forEach((item, i) => {
      if (i > 0) this.text(' ');
      this.value(item);
    });
    this.text(')');
  }

  private string(s: string): void {
    if (this.quotable(s)) this.text(`"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`);
    else this.literal(Buffer.from(s, 'utf8'));
  }

  private literal(bytes: Buffer): void {
    this.text(`{${bytes.length}}\r\n`);
    this.textToBytes();
    if (bytes.length > 0) this.pending.push(bytes);
  }

  private quotable(s: string): boolean {
    // Each UTF-16 unit is at least one byte: only a long enough string needs counting.
    if (s.length > MAX_QUOTED || (s.length * 3 > MAX_QUOTED && Buffer.byteLength(s, 'utf8') > MAX_QUOTED)) {
      return false;
    }
    return !(this.utf8 ? UNQUOTABLE : UNQUOTABLE_7BIT).test(s);
  }

  private textToBytes(): void {
    if (this.chars.length > 0) this.pending.push(Buffer.from(this.chars, 'utf8'));
    this.chars = '';
  }

  private flush(): void {
    this.textToBytes();
    // Literals are not copied: the connection writes the pieces together (corked).
    for (const b of this.pending) this.segments.push(b);
    this.pending = [];
  }
}
