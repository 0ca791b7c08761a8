import { ValidationFailed, type FieldProblem } from '@mailroom/core';

/**
 * The folder names a PATCH gives for POP3, checked against the mailbox's folders: 'INBOX' in
 * any case is the Inbox (RFC 3501 §5.1), other names match exactly (IMAP names are
 * case-sensitive). Stored as the folders' own names, without repeats, the Inbox first.
 * @throws ValidationFailed naming `pop3.folders.<i>` for a name the mailbox does not have
 */
export function resolvePop3Folders(names: string[], folders: { name: string; kind: string }[]): string[] {
  const inbox = folders.find((f) => f.kind === 'inbox');
  const problems: FieldProblem[] = [];
  const resolved: string[] = [];
  names.forEach((name, i) => {
    const folder = name.toUpperCase() === 'INBOX' ? inbox : folders.find((f) => f.name === name);
    if (!folder) {
      problems.push({ field: `pop3.folders.${i}`, message: `${name} is not a folder of this mailbox` });
    } else if (!resolved.includes(folder.name)) {
      resolved.push(folder.name);
    }
  });
  if (problems.length) throw new ValidationFailed('The request has invalid fields.', problems);
  return inbox && resolved.includes(inbox.name) ? [inbox.name, ...resolved.filter((n) => n !== inbox.name)] : resolved;
}
