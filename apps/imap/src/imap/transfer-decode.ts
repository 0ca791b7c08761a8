/** Decodes base64, ignoring what is not in the alphabet (line breaks, garbage) as RFC 2045 6.8 asks. */
export function decodeBase64(input: Buffer): Buffer {
  // Node's decoder skips characters outside the alphabet and stops at padding.
  return Buffer.from(input.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Decodes quoted-printable (RFC 2045 6.7): soft breaks removed, trailing whitespace of a line dropped, hard breaks kept. */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.alloc(input.length);
  let length = 0;
  let lineStart = 0;
  while (lineStart < input.length) {
    const lf = input.indexOf(0x0a, lineStart);
    const lineEnd = lf === -1 ? input.length : lf;
    const cr = lineEnd > lineStart && input[lineEnd - 1] === 0x0d;
    let contentEnd = cr ? lineEnd - 1 : lineEnd;
    while (contentEnd > lineStart && (input[contentEnd - 1] === 0x20 || input[contentEnd - 1] === 0x09)) contentEnd--;
    let soft = false;
    for (let i = lineStart; i < contentEnd; i++) {
      const byte = input[i]!;
      if (byte !== 0x3d) {
        out[length++] = byte;
      } else if (i === contentEnd - 1) {
        soft = true;
      } else {
        const hex = input.toString('latin1', i + 1, i + 3);
        if (HEX.test(hex)) {
          out[length++] = parseInt(hex, 16);
          i += 2;
        } else {
          out[length++] = byte; // a stray '=' is kept (robustness, as Dovecot does)
        }
      }
    }
    if (lf !== -1 && !soft) {
      if (cr) out[length++] = 0x0d;
      out[length++] = 0x0a;
    }
    lineStart = lineEnd + 1;
  }
  return out.subarray(0, length);
}

/** decodeBase64 over a stream: only an incomplete quad is carried between chunks. */
export async function* decodeBase64Stream(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let carry = '';
  for await (const chunk of chunks) {
    const text = carry + chunk.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
    const whole = text.length - (text.length % 4);
    carry = text.slice(whole);
    if (whole > 0) yield Buffer.from(text.slice(0, whole), 'base64');
  }
  if (carry) yield Buffer.from(carry, 'base64');
}

/** decodeQuotedPrintable over a stream: QP decodes line by line, so only a partial line is carried. */
export async function* decodeQuotedPrintableStream(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const data = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    const lastLf = data.lastIndexOf(0x0a);
    if (lastLf === -1) {
      carry = Buffer.from(data);
      continue;
    }
    yield decodeQuotedPrintable(data.subarray(0, lastLf + 1));
    carry = Buffer.from(data.subarray(lastLf + 1));
  }
  if (carry.length > 0) yield decodeQuotedPrintable(carry);
}
