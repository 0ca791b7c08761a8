/**
 * Version of the tree's shape and parsing rules, set on the root as `version`. A cached tree with
 * another version is stale: parse the blob again (bumped whenever parsing results change).
 */
export const MIME_STRUCTURE_VERSION = 1;

/** A parameter list in header order (`name`, `value`), RFC 2231 continuations already joined. */
export type MimeParams = Array<[string, string]>;

/** The raw (unfolded, not decoded) header values the IMAP ENVELOPE is built from (RFC 3501 7.4.2). */
export interface MimeEnvelopeFields {
  date: string | null;
  subject: string | null;
  from: string | null;
  sender: string | null;
  replyTo: string | null;
  to: string | null;
  cc: string | null;
  bcc: string | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/**
 * One entity of a message: the message itself, a part of a multipart, or the message inside a
 * message/rfc822 part. Offsets are absolute byte offsets into the stored message (end exclusive);
 * the tree is plain data so it can be cached as JSON.
 */
export interface MimeNode {
  headerStart: number;
  /** End of the header, blank line included; equals bodyStart. */
  headerEnd: number;
  bodyStart: number;
  /** The line break before a multipart boundary belongs to the boundary (RFC 2046 5.1.1), not to the body. */
  bodyEnd: number;
  /** Type and subtype as the header spells them (Dovecot renders them as-is); defaults lower case. */
  type: string;
  subtype: string;
  params: MimeParams;
  id: string | null;
  description: string | null;
  encoding: string | null;
  disposition: { value: string; params: MimeParams } | null;
  language: string[] | null;
  location: string | null;
  md5: string | null;
  /** Body size in bytes (bodyEnd - bodyStart). */
  size: number;
  /** Lines of the body. */
  lines: number;
  /** Parts of a multipart, in order. */
  children?: MimeNode[];
  /** The encapsulated message of a message/rfc822 part. */
  message?: MimeNode;
  /** On the top-level message and on encapsulated messages. */
  envelope?: MimeEnvelopeFields;
  /** On the root only: MIME_STRUCTURE_VERSION of the parser that built the tree. */
  version?: number;
}

/** Whether a node is a multipart (its body is children, possibly none when the boundary never came). */
export function isMultipart(node: MimeNode): boolean {
  return node.children !== undefined;
}
