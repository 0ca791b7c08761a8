/** A command argument that breaks the grammar: the session answers `BAD` and goes on. */
export class ImapSyntaxError extends Error {
  override readonly name = 'ImapSyntaxError';
}

/** SEARCH CHARSET we cannot search in: the session answers `NO [BADCHARSET (UTF-8 US-ASCII)]` (RFC 3501 6.4.4). */
export class ImapBadCharset extends Error {
  override readonly name = 'ImapBadCharset';
  constructor(readonly charset: string) {
    super(`unsupported charset ${charset}`);
  }
}

/** BINARY of a part whose Content-Transfer-Encoding we cannot decode: `NO [UNKNOWN-CTE]` (RFC 3516 4.3). */
export class ImapUnknownCte extends Error {
  override readonly name = 'ImapUnknownCte';
  constructor(readonly encoding: string) {
    super(`unknown content transfer encoding ${encoding}`);
  }
}
