import type { MimeNode } from './mime-node';

/** A BODY[...] section: part path (empty = whole message) and an optional text specifier (RFC 3501 6.4.5). */
export interface Section {
  part: number[];
  text?: 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';
  /** Field names of HEADER.FIELDS / HEADER.FIELDS.NOT, as the client wrote them. */
  fields?: string[];
}

/** Byte range of a section; header fields are filtered from the header range by the caller. */
export type SectionRange =
  | { start: number; end: number }
  | { start: number; end: number; headerFields: { names: string[]; not: boolean; terminated: boolean } };

/**
 * The part a path names, as Dovecot finds it: in a multipart the n-th child; in anything else only
 * 1, which names the entity itself and may go on only into a message/rfc822; a path that goes on
 * past a message/rfc822 part continues in the encapsulated message. Null when there is no such part.
 */
export function findPart(root: MimeNode, path: number[]): MimeNode | null {
  let part: MimeNode | null = root;
  for (let i = 0; i < path.length && part; i++) {
    const num = path[i]!;
    const more = i < path.length - 1;
    if (part.children) part = part.children[num - 1] ?? null;
    else if (num !== 1 || (more && !part.message)) part = null;
    if (part?.message && more) part = part.message;
  }
  return part;
}

/**
 * Where a section's bytes are: null when the part does not exist (the reply is then empty, as
 * Dovecot answers). HEADER/TEXT after a part number need a message/rfc822 part.
 */
export function resolveSection(root: MimeNode, section: Section): SectionRange | null {
  let node = findPart(root, section.part);
  if (!node) return null;
  const text = section.text;
  if (text === undefined) return section.part.length === 0 ? { start: 0, end: root.bodyEnd } : body(node);
  if (text === 'MIME') return section.part.length === 0 ? null : header(node);
  if (section.part.length > 0) {
    if (!node.message) return null;
    node = node.message;
  }
  if (text === 'TEXT') return body(node);
  if (text === 'HEADER') return header(node);
  // A header that stops before the end of the message was terminated (by a blank line or a delimiter).
  const terminated = node.headerEnd < root.bodyEnd;
  return {
    ...header(node),
    headerFields: { names: section.fields ?? [], not: text === 'HEADER.FIELDS.NOT', terminated },
  };
}

const body = (node: MimeNode) => ({ start: node.bodyStart, end: node.bodyEnd });
const header = (node: MimeNode) => ({ start: node.headerStart, end: node.headerEnd });
