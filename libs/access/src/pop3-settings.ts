import type { Pop3Settings } from './access-types';

interface Pop3Row {
  pop3FolderNames: string[];
  pop3MarkRead: boolean;
  pop3DeleteMode: Pop3Settings['deleteMode'];
  folders: Array<{ id: string; name: string; kind: string }>;
}

/**
 * The folders POP3 serves, resolved from their names at login: 'INBOX' (any case) is the inbox
 * kind, other names match exactly; unknown names (a folder deleted since) are skipped, the
 * Inbox comes first, and when nothing resolves the Inbox is served, as by default.
 */
export function pop3Settings(row: Pop3Row): Pop3Settings {
  const inbox = row.folders.find((f) => f.kind === 'inbox');
  const ids: string[] = [];
  for (const name of row.pop3FolderNames) {
    const folder =
      name.toUpperCase() === 'INBOX' ? inbox : row.folders.find((f) => f.name === name && f.kind !== 'inbox');
    if (folder && !ids.includes(folder.id)) ids.push(folder.id);
  }
  if (inbox && ids.includes(inbox.id)) ids.sort((a, b) => (a === inbox.id ? -1 : b === inbox.id ? 1 : 0));
  if (ids.length === 0 && inbox) ids.push(inbox.id);
  return { folderIds: ids, markRead: row.pop3MarkRead, deleteMode: row.pop3DeleteMode };
}
