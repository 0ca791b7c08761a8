import { bodyStructure } from '@mailroom/imap/mime/body-structure';
import { envelope } from '@mailroom/imap/mime/envelope';
import { filterHeaderFields } from '@mailroom/imap/mime/header-fields';
import type { MimeNode } from '@mailroom/imap/mime/mime-node';
import { findPart, resolveSection, type Section, type SectionRange } from '@mailroom/imap/mime/section';
import type { FetchItem, Partial, SimpleFetchName } from './fetch-items';
import type { WireValue } from './imap-arg';
import { ImapUnknownCte } from './imap-errors';
import type { MessageMeta } from './search-query';
import { decodeBase64Stream, decodeQuotedPrintableStream } from './transfer-decode';

/** The message a FETCH reads: its row, its (cached) MIME tree and byte ranges of its blob. */
export interface FetchSource {
  meta: MessageMeta;
  structure(): Promise<MimeNode>;
  /** End exclusive; no range = the whole message. */
  read(range?: { start: number; end: number }): AsyncIterable<Buffer>;
  /**
   * The whole message when its FETCH batch read it (small messages): sections are sent as slices
   * of it, with no query and no copy. Absent for large messages, which are streamed.
   */
  bytes?: Buffer | null;
}

export interface RenderOptions {
  /** UID FETCH: the UID is in every response (RFC 3501 6.4.8). */
  uid: boolean;
  /** CONDSTORE enabled / CHANGEDSINCE: MODSEQ is in every response (RFC 7162 3.1.4). */
  modseq: boolean;
  /** UTF8=ACCEPT enabled; strings are already Unicode, the encoder chooses quoted or literal. */
  utf8: boolean;
}

/** A stream value whose bytes were decoded: RFC 3516 allows (Dovecot uses) a literal8 `~{n}` for it. */
export type BinaryStream = { stream: () => AsyncIterable<Buffer>; length: number; binary: true };

/**
 * The content of `* n FETCH (...)`: name, value, name, value... Bodies are streams of exact byte
 * ranges (never the whole message in memory); BINARY decodes a large part as it streams.
 */
export async function renderFetch(items: FetchItem[], src: FetchSource, opts: RenderOptions): Promise<WireValue[]> {
  const wanted: FetchItem[] = [];
  const seen = new Set<string>();
  const add = (item: FetchItem) => {
    const key = JSON.stringify(item);
    if (!seen.has(key)) wanted.push(item);
    seen.add(key);
  };
  if (opts.uid) add({ type: 'simple', name: 'UID' });
  if (opts.modseq) add({ type: 'simple', name: 'MODSEQ' });
  items.forEach(add);
  let tree: Promise<MimeNode> | null = null;
  const structure = () => (tree ??= src.structure());
  const out: WireValue[] = [];
  for (const item of wanted) out.push(...(await renderItem(item, src, structure)));
  return out;
}

type Tree = () => Promise<MimeNode>;

async function renderItem(item: FetchItem, src: FetchSource, tree: Tree): Promise<WireValue[]> {
  switch (item.type) {
    case 'simple':
      return [{ atom: item.name }, await simple(item.name, src, tree)];
    case 'body-section':
      return [{ atom: `BODY[${sectionName(item.section)}]${origin(item.partial)}` }, await section(item, src, tree)];
    case 'binary':
      return [{ atom: `BINARY[${item.part.join('.')}]${origin(item.partial)}` }, await binary(item, src, tree)];
    case 'binary-size': {
      const decoded = await decodedPart(item.part, src, tree);
      return [{ atom: `BINARY.SIZE[${item.part.join('.')}]` }, decoded?.length ?? 0];
    }
  }
}

async function simple(name: SimpleFetchName, src: FetchSource, tree: Tree): Promise<WireValue> {
  const meta = src.meta;
  switch (name) {
    case 'FLAGS':
      return meta.flags.map((flag) => ({ atom: flag }));
    case 'INTERNALDATE':
      return imapDateTime(meta.receivedAt);
    case 'RFC822.SIZE':
      return meta.size;
    case 'UID':
      return meta.uid;
    case 'MODSEQ':
      return [meta.modseq];
    case 'ENVELOPE':
      return envelope(await tree());
    case 'BODY':
    case 'BODYSTRUCTURE':
      return bodyStructure(await tree(), name === 'BODYSTRUCTURE');
    case 'RFC822':
      return src.bytes ? src.bytes : { stream: () => src.read(), length: meta.size };
    case 'RFC822.HEADER':
    case 'RFC822.TEXT': {
      const root = await tree();
      const range = name === 'RFC822.TEXT' ? [root.bodyStart, root.bodyEnd] : [root.headerStart, root.headerEnd];
      return streamOf(src, range[0]!, range[1]!);
    }
  }
}

async function section(
  item: Extract<FetchItem, { type: 'body-section' }>,
  src: FetchSource,
  tree: Tree,
): Promise<WireValue> {
  const range = await sectionRange(item.section, src, tree);
  if (!range) return Buffer.alloc(0); // a part that does not exist reads as empty, as in Dovecot
  if ('headerFields' in range) {
    const header = src.bytes
      ? src.bytes.subarray(range.start, range.end)
      : await collect(src.read({ start: range.start, end: range.end }));
    const { names, not, terminated } = range.headerFields;
    const filtered = filterHeaderFields(header, names, not, terminated);
    return clip(filtered, item.partial);
  }
  const [start, end] = clipRange(range.start, range.end, item.partial);
  return streamOf(src, start, end);
}

async function binary(item: Extract<FetchItem, { type: 'binary' }>, src: FetchSource, tree: Tree): Promise<WireValue> {
  const part = await decodedPart(item.part, src, tree);
  if (!part) return Buffer.alloc(0);
  const [start, end] = clipRange(0, part.length, item.partial);
  const stream = part.bytes
    ? () => once(part.bytes!.subarray(start, end))
    : () => sliceStream(part.decode(), start, end);
  const value: BinaryStream = { stream, length: end - start, binary: true };
  return value;
}

/** Where a section is; the whole message needs no MIME tree (it ends at the size): BODY[] parses nothing. */
async function sectionRange(section: Section, src: FetchSource, tree: Tree): Promise<SectionRange | null> {
  if (section.part.length === 0 && section.text === undefined) return { start: 0, end: src.meta.size };
  return resolveSection(await tree(), section);
}

/** Parts up to this size are decoded once into memory; larger ones are decoded twice (count, send). */
const DECODE_IN_MEMORY = 1024 * 1024;

interface DecodedPart {
  length: number;
  bytes: Buffer | null;
  decode(): AsyncIterable<Buffer>;
}

/**
 * The decoded content of a leaf part (RFC 3516); multiparts and messages are returned as stored.
 * Never more than DECODE_IN_MEMORY bytes of it in memory.
 */
async function decodedPart(part: number[], src: FetchSource, tree: Tree): Promise<DecodedPart | null> {
  const root = await tree();
  const node = findPart(root, part);
  if (!node) return null;
  const range = { start: part.length === 0 ? 0 : node.bodyStart, end: node.bodyEnd };
  const raw = () => (src.bytes ? once(src.bytes.subarray(range.start, range.end)) : src.read(range));
  const encoding = (node.encoding ?? '7bit').toLowerCase();
  if (part.length === 0 || node.children || node.message || ['7bit', '8bit', 'binary'].includes(encoding)) {
    return { length: range.end - range.start, bytes: null, decode: raw };
  }
  if (encoding !== 'base64' && encoding !== 'quoted-printable') throw new ImapUnknownCte(encoding);
  const decode = () => (encoding === 'base64' ? decodeBase64Stream(raw()) : decodeQuotedPrintableStream(raw()));
  if (node.size <= DECODE_IN_MEMORY) {
    const bytes = await collect(decode());
    return { length: bytes.length, bytes, decode: () => once(bytes) };
  }
  let length = 0;
  for await (const chunk of decode()) length += chunk.length;
  return { length, bytes: null, decode };
}

async function* sliceStream(chunks: AsyncIterable<Buffer>, start: number, end: number): AsyncIterable<Buffer> {
  let pos = 0;
  for await (const chunk of chunks) {
    const from = Math.max(start - pos, 0);
    const to = Math.min(end - pos, chunk.length);
    if (to > from) yield chunk.subarray(from, to);
    pos += chunk.length;
    if (pos >= end) return;
  }
}

/** The section as the reply names it: `1.2.HEADER.FIELDS (FROM TO)` (Dovecot upper-cases the names). */
export function sectionName(section: Section): string {
  const parts = [...section.part.map(String), ...(section.text ? [section.text] : [])].join('.');
  if (!section.fields) return parts;
  return `${parts} (${section.fields.map((f) => f.toUpperCase()).join(' ')})`;
}

/** RFC 3501 7.4.2: the reply to `<start.length>` names only the origin octet. */
function origin(partial: Partial | undefined): string {
  return partial ? `<${partial.start}>` : '';
}

function clipRange(start: number, end: number, partial: Partial | undefined): [number, number] {
  if (!partial) return [start, end];
  const from = Math.min(end, start + partial.start);
  return [from, Math.min(end, from + partial.length)];
}

function clip(bytes: Buffer, partial: Partial | undefined): Buffer {
  const [start, end] = clipRange(0, bytes.length, partial);
  return bytes.subarray(start, end);
}

function streamOf(src: FetchSource, start: number, end: number): WireValue {
  if (end <= start) return Buffer.alloc(0);
  if (src.bytes) return src.bytes.subarray(start, end);
  return { stream: () => src.read({ start, end }), length: end - start };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function* once(bytes: Buffer): AsyncIterable<Buffer> {
  yield bytes;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMAP date-time (RFC 3501 9): `" 2-Dec-2026 17:51:07 +0000"`, day padded with a space. */
export function imapDateTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${time} +0000`;
}
