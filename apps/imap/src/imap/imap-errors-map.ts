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

/**
 * The reply for a domain error of the store or the authenticator (matched by name: the
 * libraries' DomainError sets it to the class name). Unknown errors are not mapped (null).
 */
export function replyForError(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  switch (err.name) {
    case 'ImapNo':
      return `NO ${err.message}`;
    case 'ImapBad':
    case 'ImapSyntaxError':
    case 'CommandSyntaxError':
      return `BAD ${err.message}`;
    case 'ImapBadCharset':
      return 'NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset';
    case 'ImapUnknownCte':
      return 'NO [UNKNOWN-CTE] Cannot decode this part';
    case 'QuotaExceeded':
      return 'NO [OVERQUOTA] Quota exceeded: the mailbox is full';
    case 'FolderNotFound':
      return 'NO [NONEXISTENT] No such mailbox';
    case 'FolderExists':
      return 'NO [ALREADYEXISTS] Mailbox already exists';
    case 'InvalidFolderName':
      return `NO [CANNOT] ${err.message}`;
    case 'FolderProtected':
      return 'NO [CANNOT] This mailbox cannot be deleted or renamed';
    case 'MailboxUnavailable':
      return 'NO [UNAVAILABLE] The mailbox is not available';
    default:
      return null;
  }
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
