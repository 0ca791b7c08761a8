import type { WireValue } from '@mailroom/imap/imap/imap-arg';
import { envelope } from './envelope';
import type { MimeNode, MimeParams } from './mime-node';

function params(list: MimeParams): WireValue {
  return list.length === 0 ? null : list.flatMap(([name, value]) => [name, value]);
}

// Dovecot writes this for a multipart whose boundary never came: IMAP requires at least one part.
const EMPTY_PART: WireValue[] = ['text', 'plain', ['charset', 'us-ascii'], null, null, '7bit', 0, 0];

/**
 * BODY (extended = false) or BODYSTRUCTURE (extended = true) of a node, RFC 3501 7.4.2 /
 * RFC 9051 7.5.2, with Dovecot's casing: type, subtype and parameters as the message spells them.
 */
export function bodyStructure(node: MimeNode, extended: boolean): WireValue {
  return node.children ? multipart(node, node.children, extended) : basic(node, extended);
}

function multipart(node: MimeNode, children: MimeNode[], extended: boolean): WireValue {
  const empty = extended ? [...EMPTY_PART, null, null, null, null] : EMPTY_PART;
  const parts = children.length === 0 ? [empty] : children.map((c) => bodyStructure(c, extended));
  const out: WireValue[] = [...parts, node.subtype];
  if (extended) out.push(params(node.params), ...trailer(node));
  return out;
}

function basic(node: MimeNode, extended: boolean): WireValue {
  const out: WireValue[] = [
    node.type,
    node.subtype,
    params(withCharset(node)),
    node.id,
    node.description,
    node.encoding ?? '7bit',
    node.size,
  ];
  if (node.message) {
    out.push(envelope(node.message), bodyStructure(node.message, extended), node.lines);
  } else if (node.type.toLowerCase() === 'text') {
    out.push(node.lines);
  }
  if (extended) out.push(node.md5, ...trailer(node));
  return out;
}

/** Dovecot appends the RFC 2045 default charset to a text part that names none. */
function withCharset(node: MimeNode): MimeParams {
  if (node.type.toLowerCase() !== 'text') return node.params;
  if (node.params.some(([name]) => name.toLowerCase() === 'charset')) return node.params;
  return [...node.params, ['charset', 'us-ascii']];
}

/** body-fld-dsp, body-fld-lang, body-fld-loc. */
function trailer(node: MimeNode): WireValue[] {
  const disposition = node.disposition ? [node.disposition.value, params(node.disposition.params)] : null;
  return [disposition, node.language, node.location];
}
