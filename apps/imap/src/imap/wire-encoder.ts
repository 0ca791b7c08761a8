import type { WireValue } from './imap-arg';

/** A piece of a response: bytes, or a literal's body streamed in chunks with backpressure. */
export type WireSegment = Buffer | { stream: () => AsyncIterable<Buffer>; length: number };

// Quoted strings stay short and plain; anything else goes as a literal (RFC 9051 §4.3).
const MAX_QUOTED = 1000;

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

/** A quoted string or literal for one text value (mailbox names, header values). */
export function encodeString(value: string | Buffer, utf8: boolean): WireSegment[] {
  return encodeValues([value], utf8);
}

class Encoder {
  private readonly segments: WireSegment[] = [];
  private pending: Buffer[] = [];

  constructor(private readonly utf8: boolean) {}

  text(s: string): void {
    this.pending.push(Buffer.from(s, 'utf8'));
  }

  value(v: WireValue): void {
    if (v === null) return this.text('NIL');
    if (typeof v === 'number' || typeof v === 'bigint') return this.text(String(v));
    if (typeof v === 'string') return this.string(Buffer.from(v, 'utf8'));
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

  private string(bytes: Buffer): void {
    if (this.quotable(bytes)) {
      const escaped = bytes.toString('utf8').replace(/["\\]/g, (c) => `\\${c}`);
      this.text(`"${escaped}"`);
    } else this.literal(bytes);
  }

  private literal(bytes: Buffer): void {
    this.text(`{${bytes.length}}\r\n`);
    this.pending.push(bytes);
  }

  private quotable(bytes: Buffer): boolean {
    if (bytes.length > MAX_QUOTED) return false;
    for (const c of bytes) {
      if (c === 0 || c === 0x0d || c === 0x0a) return false;
      if (c >= 0x80 && !this.utf8) return false;
    }
    return true;
  }

  private flush(): void {
    if (this.pending.length > 0) this.segments.push(Buffer.concat(this.pending));
    this.pending = [];
  }
}
