export type CsvResult = { ok: true; records: CsvRecord[] } | { ok: false; line: number; message: string };

export interface CsvRecord {
  /** Line of the file where the record starts (1-based), for error reports. */
  line: number;
  fields: string[];
}

/**
 * Parses CSV as RFC 4180 describes it: fields separated by commas, records by CRLF (or LF),
 * fields in double quotes may hold commas, line breaks and doubled quotes (""). Also accepted:
 * a UTF-8 byte order mark (spreadsheets write one) and a missing final line break. Blank lines
 * are skipped. A quote inside an unquoted field, or text after a closing quote, is an error.
 */
export function parseCsv(text: string): CsvResult {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let quoted = false;
  let afterQuote = false;
  const endRecord = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !afterQuote)) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    afterQuote = false;
  };
  while (i < input.length) {
    const c = input[i]!;
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        afterQuote = true;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      i++;
      continue;
    }
    if (c === ',') {
      fields.push(field);
      field = '';
      afterQuote = false;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      if (c === '\r' && input[i + 1] === '\n') i++;
      line++;
      recordLine = line;
    } else if (afterQuote) {
      return {
        ok: false,
        line,
        message: `line ${line}: text after a closing quote; write "" for a quote inside quotes`,
      };
    } else if (c === '"') {
      if (field !== '') return { ok: false, line, message: `line ${line}: a quote inside an unquoted field` };
      quoted = true;
    } else {
      field += c;
    }
    i++;
  }
  if (quoted) return { ok: false, line: recordLine, message: `line ${recordLine}: a quoted field is never closed` };
  if (field !== '' || fields.length > 0 || afterQuote) endRecord();
  return { ok: true, records };
}

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** A quota as bytes: `1073741824`, `500M`, `2G`, `1.5GiB`, `10 GB` (units are binary). */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const bytes = Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : null;
}
