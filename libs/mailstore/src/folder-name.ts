import { InvalidFolderName } from './errors';

/** IMAP hierarchy delimiter of every mailbox (LIST answers it). */
export const FOLDER_DELIMITER = '/';

const MAX_NAME_LENGTH = 255;
const MAX_DEPTH = 16;

/**
 * A client's folder name as we store it, or InvalidFolderName. Names arrive as Unicode (the IMAP
 * edge decodes modified UTF-7 or takes UTF-8 under UTF8=ACCEPT). INBOX is case-insensitive
 * (RFC 3501 5.1), also as the first level of a child ("inbox/Lists" is "INBOX/Lists"). Refused:
 * empty levels, control characters, and the LIST wildcards '*' and '%' (RFC 3501 5.1.2: a name
 * with them cannot be listed exactly).
 */
export function normaliseFolderName(name: string): string {
  const nfc = name.normalize('NFC');
  if (nfc.length === 0) throw new InvalidFolderName(name, 'empty name');
  if (nfc.length > MAX_NAME_LENGTH) throw new InvalidFolderName(name, `longer than ${MAX_NAME_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(nfc)) throw new InvalidFolderName(name, 'control characters');
  if (/[*%]/.test(nfc)) throw new InvalidFolderName(name, "'*' and '%' are reserved");
  const levels = nfc.split(FOLDER_DELIMITER);
  if (levels.some((l) => l.length === 0)) throw new InvalidFolderName(name, 'empty hierarchy level');
  if (levels.length > MAX_DEPTH) throw new InvalidFolderName(name, `deeper than ${MAX_DEPTH} levels`);
  if (levels[0]!.toUpperCase() === 'INBOX') levels[0] = 'INBOX';
  return levels.join(FOLDER_DELIMITER);
}

/** The superiors of a name, outermost first: "a/b/c" gives ["a", "a/b"]. */
export function parentNames(name: string): string[] {
  const levels = name.split(FOLDER_DELIMITER);
  return levels.slice(1).map((_, i) => levels.slice(0, i + 1).join(FOLDER_DELIMITER));
}

/** A renamed name: `name` is `from` or one of its inferiors, moved under `to`. */
export function renamedName(name: string, from: string, to: string): string {
  return to + name.slice(from.length);
}
