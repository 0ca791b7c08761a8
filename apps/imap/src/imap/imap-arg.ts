/** One argument of a command as the parser read it (RFC 9051 §9 grammar). NIL arrives as atom 'NIL'. */
export type ImapArg =
  | { type: 'atom'; value: string; section?: ImapArg[]; partial?: { start: number; length: number } }
  | { type: 'string'; value: Buffer }
  | { type: 'list'; items: ImapArg[] };

/** What the encoder writes: null = NIL, string = quoted or literal as needed, Buffer = literal,
 *  atom = as is, array = parenthesised list, stream = literal of known length sent in chunks. */
export type WireValue =
  | null
  | number
  | bigint
  | string
  | Buffer
  | { atom: string }
  | { stream: () => AsyncIterable<Buffer>; length: number }
  | WireValue[];
