/**
 * HEADER.FIELDS / HEADER.FIELDS.NOT (RFC 3501 6.4.5): the matching fields of a header block in
 * message order, folded lines kept, names compared case-insensitively, then the blank line when
 * the header had one or was terminated by a delimiter (Dovecot leaves it out at the end of the message).
 */
export function filterHeaderFields(header: Buffer, names: string[], not: boolean, terminated = false): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let keep = false;
  let pos = 0;
  let blankLine: Buffer | null = null;
  while (pos < header.length) {
    const lf = header.indexOf(0x0a, pos);
    const end = lf === -1 ? header.length : lf + 1;
    const line = header.subarray(pos, end);
    pos = end;
    if (line[0] === 0x0d || line[0] === 0x0a) {
      blankLine = line; // kept as it is: a bare-LF message gets "\n" back
      break;
    }
    if (line[0] !== 0x20 && line[0] !== 0x09) {
      const colon = line.indexOf(0x3a);
      const name = (colon === -1 ? line : line.subarray(0, colon)).toString('latin1').trim().toLowerCase();
      keep = wanted.has(name) !== not;
    }
    if (keep) out.push(line);
    // A last field cut off by the end of the message still ends with a line break (as in Dovecot).
    if (keep && lf === -1) out.push(Buffer.from('\r\n'));
  }
  if (blankLine) out.push(blankLine);
  else if (terminated) out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}
