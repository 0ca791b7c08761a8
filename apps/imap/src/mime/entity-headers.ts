import { decodeHeaderBytes, parseParameterized, unfold } from './header-value';
import type { MimeEnvelopeFields, MimeNode } from './mime-node';

const ENVELOPE_FIELDS: Record<string, keyof MimeEnvelopeFields> = {
  date: 'date',
  subject: 'subject',
  from: 'from',
  sender: 'sender',
  'reply-to': 'replyTo',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
  'in-reply-to': 'inReplyTo',
  'message-id': 'messageId',
};

const MIME_FIELDS = new Set([
  'content-type',
  'content-transfer-encoding',
  'content-id',
  'content-description',
  'content-disposition',
  'content-language',
  'content-location',
  'content-md5',
]);

/** Whether a header field matters to the structure; others are not kept, only their bytes counted. */
export function isKeptField(name: string, message: boolean): boolean {
  const lower = name.toLowerCase();
  return MIME_FIELDS.has(lower) || (message && lower in ENVELOPE_FIELDS);
}

/** The name of a header line (`Name:`), or null for a continuation or a line that is not a field. */
export function fieldName(line: Buffer): string | null {
  if (line.length === 0 || line[0] === 0x20 || line[0] === 0x09) return null;
  const colon = line.indexOf(0x3a);
  if (colon <= 0) return null;
  return line.subarray(0, colon).toString('latin1').trim();
}

/** Fills the node from its header fields ([name, raw value] in order); the first occurrence wins. */
export function applyHeaders(
  node: MimeNode,
  fields: Array<[string, Buffer]>,
  defaultType: string,
  message: boolean,
): void {
  const seen = new Map<string, string>();
  const all = new Map<string, string[]>();
  for (const [name, raw] of fields) {
    const key = name.toLowerCase();
    const value = decodeHeaderBytes(raw);
    if (!seen.has(key)) seen.set(key, value);
    all.set(key, [...(all.get(key) ?? []), value]);
  }
  const type = parseParameterized(seen.get('content-type') ?? '');
  const slash = type.value.indexOf('/');
  const [main, sub] = slash > 0 ? [type.value.slice(0, slash).trim(), type.value.slice(slash + 1).trim()] : ['', ''];
  if (main && sub && /^[^\s"]+$/.test(main + sub)) {
    node.type = main;
    node.subtype = sub;
    node.params = type.params;
  } else {
    [node.type, node.subtype] = defaultType.split('/') as [string, string];
    node.params = defaultType === 'text/plain' ? [['charset', 'us-ascii']] : [];
  }
  const text = (name: string) => {
    const value = seen.get(name);
    return value === undefined ? null : unfold(value).trim();
  };
  node.encoding = text('content-transfer-encoding');
  node.id = text('content-id');
  node.description = text('content-description');
  node.location = text('content-location');
  node.md5 = text('content-md5');
  const disposition = seen.get('content-disposition');
  node.disposition = disposition === undefined ? null : parseParameterized(disposition);
  const language = text('content-language');
  node.language = language === null ? null : language.split(/[\s,]+/).filter(Boolean);
  if (message) node.envelope = envelopeFields(all);
}

const ADDRESS_FIELDS = new Set(['from', 'sender', 'reply-to', 'to', 'cc', 'bcc']);

/**
 * As Dovecot builds the envelope: repeated address fields are joined into one list, for the other
 * fields the last one wins. Only the blanks after the colon go; folded lines keep their indent;
 * tabs become spaces.
 */
function envelopeFields(all: Map<string, string[]>): MimeEnvelopeFields {
  const out = {} as MimeEnvelopeFields;
  for (const [header, key] of Object.entries(ENVELOPE_FIELDS)) {
    // Dovecot also writes a TAB as a space in envelope strings.
    const values = (all.get(header) ?? []).map((value) => unfold(value.replace(/^[ \t]+/, '')).replace(/\t/g, ' '));
    out[key] = values.length === 0 ? null : ADDRESS_FIELDS.has(header) ? values.join(', ') : values.at(-1)!;
  }
  return out;
}
