import { applyHeaders, fieldName, isKeptField } from './entity-headers';
import { readLines, type Line } from './line-reader';
import { MIME_STRUCTURE_VERSION, type MimeNode } from './mime-node';

/** Bytes of a line we look at: enough for any header line we care about and any boundary (RFC 2046: 70). */
const LINE_KEEP = 16 * 1024;
/** Kept header bytes per entity; a giant header beyond this is counted, not stored. */
const HEADER_KEEP = 256 * 1024;
/** Deeper nesting is read as an opaque body (a bomb of nested multiparts must not blow the stack). */
const MAX_DEPTH = 64;

interface Frame {
  node: MimeNode;
  state: 'header' | 'body' | 'preamble' | 'parts' | 'epilogue';
  fields: Array<[string, Buffer]>;
  /** The field being read, with its continuation lines. */
  field: { name: string; parts: Buffer[] } | null;
  keptBytes: number;
  /** `--boundary` of a multipart. */
  delimiter: Buffer | null;
  defaultType: string;
  message: boolean;
  lfAtBody: number;
  /** Where the epilogue after a close delimiter starts (its line break is the delimiter's, not the next one's). */
  epilogue: { start: number; lf: number } | null;
}

function newNode(headerStart: number): MimeNode {
  return {
    headerStart,
    headerEnd: headerStart,
    bodyStart: headerStart,
    bodyEnd: headerStart,
    type: 'text',
    subtype: 'plain',
    params: [],
    id: null,
    description: null,
    encoding: null,
    disposition: null,
    language: null,
    location: null,
    md5: null,
    size: 0,
    lines: 0,
  };
}

function newFrame(node: MimeNode, defaultType: string, message: boolean): Frame {
  return {
    node,
    state: 'header',
    fields: [],
    field: null,
    keptBytes: 0,
    delimiter: null,
    defaultType,
    message,
    lfAtBody: 0,
    epilogue: null,
  };
}

/**
 * Reads a message once and returns its MIME tree with byte offsets (RFC 2045/2046, RFC 5322).
 * Only header fields are kept, never a body. Tolerant: bare LF, missing or malformed
 * boundaries, 8-bit and UTF-8 headers parse to a best-effort tree instead of throwing.
 */
export async function parseMimeStructure(chunks: AsyncIterable<Buffer>): Promise<MimeNode> {
  const root = newNode(0);
  const parser = new StructureParser(newFrame(root, 'text/plain', true));
  for await (const line of readLines(chunks, LINE_KEEP)) parser.line(line);
  parser.end();
  root.version = MIME_STRUCTURE_VERSION;
  return root;
}

class StructureParser {
  private readonly stack: Frame[];
  private lfCount = 0;
  private prevBreak = 0;
  private total = 0;

  constructor(root: Frame) {
    this.stack = [root];
  }

  line(line: Line): void {
    if (!this.boundary(line)) {
      const top = this.stack[this.stack.length - 1]!;
      if (top.state === 'header') this.headerLine(top, line);
    }
    if (line.breakLength > 0) this.lfCount++;
    this.prevBreak = line.breakLength;
    this.total = line.start + line.length;
  }

  end(): void {
    this.closeAbove(-1, this.total, this.lfCount);
  }

  /** A delimiter line of an enclosing multipart: the innermost exact match, else the innermost prefix match. */
  private boundary(line: Line): boolean {
    if (line.text[0] !== 0x2d || line.text[1] !== 0x2d) return false;
    let prefixMatch = -1;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const frame = this.stack[i]!;
      if (!frame.delimiter || frame.state === 'epilogue' || frame.state === 'header') continue;
      if (!line.text.subarray(0, frame.delimiter.length).equals(frame.delimiter)) continue;
      const rest = line.text.subarray(frame.delimiter.length).toString('latin1').trimEnd();
      if (rest === '' || rest === '--') return this.delimit(i, line, rest === '--');
      if (prefixMatch === -1) prefixMatch = i;
    }
    if (prefixMatch === -1) return false;
    const rest = line.text.subarray(this.stack[prefixMatch]!.delimiter!.length);
    return this.delimit(prefixMatch, line, rest[0] === 0x2d && rest[1] === 0x2d);
  }

  private delimit(index: number, line: Line, close: boolean): true {
    // RFC 2046 5.1.1: the line break before the delimiter is part of it.
    const end = line.start - this.prevBreak;
    this.closeAbove(index, end, this.prevBreak > 0 ? this.lfCount - 1 : this.lfCount, {
      start: line.start,
      lf: this.lfCount,
    });
    const frame = this.stack[index]!;
    if (close) {
      frame.state = 'epilogue';
      frame.epilogue = { start: line.start + line.length, lf: this.lfCount + (line.breakLength > 0 ? 1 : 0) };
      return true;
    }
    frame.state = 'parts';
    const child = newNode(line.start + line.length);
    frame.node.children!.push(child);
    const digest = frame.node.subtype.toLowerCase() === 'digest';
    this.stack.push(newFrame(child, digest ? 'message/rfc822' : 'text/plain', false));
    return true;
  }

  /** Closes the frames above `index` at `end`; `unstripped` is the delimiter line's start. */
  private closeAbove(index: number, end: number, lfAtEnd: number, unstripped?: { start: number; lf: number }): void {
    while (this.stack.length - 1 > index) {
      const frame = this.stack.pop()!;
      // Dovecot: when a delimiter cuts the header of an encapsulated message, that header loses the
      // line break before the delimiter but the enclosing message/rfc822 part keeps it.
      const cutMessageHeader = unstripped && frame.state === 'header' && frame.message;
      // An empty epilogue: nothing to take the line break from (Dovecot keeps "--inner--\r\n" whole).
      if (frame.epilogue && frame.epilogue.start > end) ({ start: end, lf: lfAtEnd } = frame.epilogue);
      if (frame.state === 'header') this.endHeader(frame, Math.max(end, frame.node.headerStart), lfAtEnd, false);
      const node = frame.node;
      node.bodyEnd = Math.max(node.bodyStart, end);
      node.size = node.bodyEnd - node.bodyStart;
      node.lines = Math.max(0, lfAtEnd - frame.lfAtBody);
      if (cutMessageHeader) ({ start: end, lf: lfAtEnd } = unstripped);
    }
  }

  private headerLine(frame: Frame, line: Line): void {
    if (line.text.length === 0 && line.breakLength > 0) {
      this.endHeader(frame, line.start + line.length, this.lfCount + 1, true);
      return;
    }
    const first = line.text[0];
    if (first === 0x20 || first === 0x09) {
      if (frame.field && this.keep(frame, line.text.length + 1)) frame.field.parts.push(Buffer.from('\n'), line.text);
      return;
    }
    this.flushField(frame);
    const name = fieldName(line.text);
    if (name !== null && isKeptField(name, frame.message) && this.keep(frame, line.text.length)) {
      frame.field = { name, parts: [line.text.subarray(line.text.indexOf(0x3a) + 1)] };
    }
  }

  private keep(frame: Frame, bytes: number): boolean {
    frame.keptBytes += bytes;
    return frame.keptBytes <= HEADER_KEEP;
  }

  private flushField(frame: Frame): void {
    if (frame.field) frame.fields.push([frame.field.name, Buffer.concat(frame.field.parts)]);
    frame.field = null;
  }

  private endHeader(frame: Frame, bodyStart: number, lfAtBody: number, bodyFollows: boolean): void {
    this.flushField(frame);
    const node = frame.node;
    applyHeaders(node, frame.fields, frame.defaultType, frame.message);
    frame.fields = [];
    node.headerEnd = node.bodyStart = bodyStart;
    frame.lfAtBody = lfAtBody;
    frame.state = 'body';
    if (!bodyFollows || this.stack.length >= MAX_DEPTH) return;
    const type = node.type.toLowerCase();
    const boundary = node.params.find(([name]) => name.toLowerCase() === 'boundary')?.[1];
    if (type === 'multipart') {
      // Without a boundary Dovecot still shows a multipart (with one empty text/plain part).
      node.children = [];
      if (boundary) frame.state = 'preamble';
      if (boundary) frame.delimiter = Buffer.from(`--${boundary}`);
    } else if (type === 'message' && node.subtype.toLowerCase() === 'rfc822') {
      // Even when encoded (illegal, RFC 2046 5.2.1): BODYSTRUCTURE needs an envelope and a body
      // for every message/rfc822, and Dovecot reads the encoded text as a (broken) message too.
      node.message = newNode(bodyStart);
      const inner = newFrame(node.message, 'text/plain', true);
      inner.lfAtBody = lfAtBody;
      this.stack.push(inner);
    }
  }
}
