/** One line of the input: where it starts, its length with the line break, and its first bytes. */
export interface Line {
  start: number;
  /** Bytes of the whole line, line break included. */
  length: number;
  /** The line without its line break, cut at the reader's limit (a long body line needs no more). */
  text: Buffer;
  /** Length of the line break: 2 for CRLF, 1 for bare LF, 0 for the last line without one. */
  breakLength: number;
}

/**
 * Splits a byte stream into lines (CRLF or bare LF) keeping at most `keep` bytes of each, so a
 * 30 MB attachment without line breaks costs `keep` bytes, not 30 MB.
 */
export async function* readLines(chunks: AsyncIterable<Buffer>, keep: number): AsyncGenerator<Line> {
  let offset = 0;
  let lineStart = 0;
  let parts: Buffer[] = [];
  let kept = 0;
  let lastByteCr = false;
  for await (const chunk of chunks) {
    let from = 0;
    while (from < chunk.length) {
      const lf = chunk.indexOf(0x0a, from);
      const end = lf === -1 ? chunk.length : lf;
      if (kept < keep && end > from) {
        const piece = chunk.subarray(from, Math.min(end, from + keep - kept));
        parts.push(Buffer.from(piece));
        kept += piece.length;
      }
      if (end > from) lastByteCr = chunk[end - 1] === 0x0d;
      if (lf === -1) break;
      const length = offset + lf + 1 - lineStart;
      yield finish(lineStart, length, parts, lastByteCr, kept === length - 1);
      lineStart += length;
      parts = [];
      kept = 0;
      lastByteCr = false;
      from = lf + 1;
    }
    offset += chunk.length;
  }
  if (offset > lineStart) {
    yield { start: lineStart, length: offset - lineStart, text: Buffer.concat(parts), breakLength: 0 };
  }
}

function finish(start: number, length: number, parts: Buffer[], cr: boolean, whole: boolean): Line {
  let text = Buffer.concat(parts);
  // Strip the CR only when it is really the byte before the LF (a cut line keeps its prefix).
  if (cr && whole) text = text.subarray(0, text.length - 1);
  return { start, length, text, breakLength: cr ? 2 : 1 };
}
