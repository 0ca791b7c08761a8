// charset, optional RFC 2231 §5 language suffix, encoding, text (RFC 2047 §2).
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bq])\?([^?\s]*)\?=/gi;

interface PendingRun {
  charset: string;
  bytes: Buffer[];
  raw: string;
}

function wordBytes(encoding: string, text: string): Buffer {
  if (encoding.toLowerCase() === 'b') {
    return Buffer.from(text, 'base64');
  }
  // Q encoding: `_` is always 0x20 whatever the charset (RFC 2047 §4.2 (2)).
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const hex = text.slice(i + 1, i + 3);
    if (ch === '=' && /^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(ch === '_' ? 0x20 : text.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeRun(run: PendingRun | null): string {
  if (!run) {
    return '';
  }
  try {
    return new TextDecoder(run.charset).decode(Buffer.concat(run.bytes));
  } catch {
    // An unknown charset: keep the words as they came rather than guess.
    return run.raw;
  }
}

/**
 * Decodes RFC 2047 encoded-words (`=?utf-8?B?...?=`, `=?iso-8859-1?Q?...?=`) in an unstructured
 * header value. White space between adjacent encoded-words is dropped (RFC 2047 §6.2), and
 * adjacent words in one charset are decoded together, because senders split multi-byte
 * characters across words although §5 forbids it. Words in a charset the runtime does not know
 * are left as they are.
 */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) {
    return value;
  }
  let out = '';
  let last = 0;
  let run: PendingRun | null = null;
  for (const match of value.matchAll(ENCODED_WORD)) {
    const [raw, charset = '', encoding = '', text = ''] = match;
    const between = value.slice(last, match.index);
    const adjacent = /^\s*$/.test(between);
    const label = charset.toLowerCase();
    const bytes = wordBytes(encoding, text);
    if (run !== null && adjacent && run.charset === label) {
      run.bytes.push(bytes);
      run.raw += between + raw;
    } else {
      out += decodeRun(run) + (run !== null && adjacent ? '' : between);
      run = { charset: label, bytes: [bytes], raw };
    }
    last = match.index + raw.length;
  }
  return out + decodeRun(run) + value.slice(last);
}
