import {
  FolderExists,
  FolderHasChildren,
  FolderNotFound,
  FolderProtected,
  InvalidFolderName,
  MailboxUnavailable,
  QuotaExceeded,
} from '@mailroom/mailstore';
import { CommandSyntaxError } from './command-parser';
import { ImapBadCharset, ImapSyntaxError, ImapUnknownCte } from './imap-errors';

/** A command failed in a way the client should see as `NO` (optionally with a response code). */
export class ImapNo extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImapNo';
  }
}

/** The command is wrong for this state or its arguments are wrong: `BAD`. */
export class ImapBad extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImapBad';
  }
}

/** The reply for an error of the parser, the renderer or the store; null when it is not ours to map. */
export function replyForError(err: unknown): string | null {
  if (err instanceof ImapNo) return `NO ${err.message}`;
  if (err instanceof ImapBad || err instanceof ImapSyntaxError || err instanceof CommandSyntaxError) {
    return `BAD ${err.message}`;
  }
  if (err instanceof ImapBadCharset) return 'NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset';
  if (err instanceof ImapUnknownCte) return 'NO [UNKNOWN-CTE] Cannot decode this part';
  return storeReply(err);
}

/** The mail store's domain errors (contracts §2) as IMAP response codes (RFC 5530). */
function storeReply(err: unknown): string | null {
  if (err instanceof QuotaExceeded) return 'NO [OVERQUOTA] Quota exceeded: the mailbox is full';
  if (err instanceof FolderNotFound) return 'NO [NONEXISTENT] No such mailbox';
  if (err instanceof FolderExists) return 'NO [ALREADYEXISTS] Mailbox already exists';
  if (err instanceof InvalidFolderName) return `NO [CANNOT] ${err.message}`;
  if (err instanceof FolderProtected) return 'NO [CANNOT] This mailbox cannot be deleted or renamed';
  if (err instanceof FolderHasChildren) return 'NO [HASCHILDREN] Delete the mailboxes under it first';
  if (err instanceof MailboxUnavailable) return 'NO [UNAVAILABLE] The mailbox is not available';
  return null;
}

/** AccessDenied reasons (contracts §1) to the tagged NO of LOGIN/AUTHENTICATE. */
export function loginFailure(reason: string): string {
  switch (reason) {
    case 'service-disabled':
      return 'NO [AUTHORIZATIONFAILED] IMAP access is disabled for this mailbox; enable it in the dashboard';
    case 'ip-denied':
      return 'NO [AUTHORIZATIONFAILED] IMAP access from your IP address is not allowed for this organisation';
    case 'suspended':
      return 'NO [AUTHORIZATIONFAILED] This organisation is suspended';
    case 'mailbox-disabled':
      return 'NO [AUTHORIZATIONFAILED] This mailbox is disabled';
    case 'authzid':
      return 'NO [AUTHORIZATIONFAILED] Authorization identity not allowed';
    default:
      return 'NO [AUTHENTICATIONFAILED] Authentication failed.';
  }
}
