/** The protocols a mailbox login is for; 'smtp' is submission (587/465). */
export type AccessService = 'imap' | 'pop3' | 'smtp';

export const ACCESS_SERVICES: readonly AccessService[] = ['imap', 'pop3', 'smtp'];

export type Pop3DeleteMode = 'delete' | 'keep' | 'trash';

export interface Pop3Settings {
  /** Folder ids POP3 serves, Inbox first. Default: only the Inbox. */
  folderIds: string[];
  /** RETR/TOP of a whole message sets \Seen. Default false (Gmail/Outlook keep IMAP state untouched). */
  markRead: boolean;
  /** What DELE + QUIT does: 'delete' expunges; 'keep' leaves the message; 'trash' moves it to Trash. Default 'delete'. */
  deleteMode: Pop3DeleteMode;
}

/** Who a session is once a login succeeded. */
export interface AccessUser {
  /** The login as the client typed it (trimmed). */
  login: string;
  tenantId: string;
  mailboxId: string;
  domainId: string;
  domainName: string;
  /** The mailbox's own address, lower-case local part @ its domain. */
  address: string;
  quotaBytes: bigint;
  usedBytes: bigint;
  via: 'password' | 'app-password';
  appPasswordId: string | null;
  pop3: Pop3Settings;
  /** mailboxes.auth_version at login: a session whose mailbox moved past it must end. */
  authVersion: number;
}

export type AccessDeniedReason =
  'bad-credentials' | 'locked' | 'authzid' | 'mailbox-disabled' | 'suspended' | 'service-disabled' | 'ip-denied';

const SERVICE_NAMES: Record<AccessService, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP submission' };

/**
 * What a client may be told, worded as hosted providers word it (Gmail's "[ALERT] ... enable
 * IMAP", Outlook's "POP access is disabled"). Edges may use it as the text of their refusal.
 */
export function accessDeniedSentence(reason: AccessDeniedReason, service: AccessService): string {
  switch (reason) {
    case 'bad-credentials':
    case 'locked':
      return 'Authentication credentials invalid';
    case 'authzid':
      return 'Authentication credentials invalid: the authorization identity must be empty or equal to the login';
    case 'mailbox-disabled':
      return 'This mailbox is disabled; ask your administrator to enable it';
    case 'suspended':
      return "This mailbox's domain or organisation is suspended; ask your administrator";
    case 'service-disabled':
      return `${SERVICE_NAMES[service]} access is disabled for this mailbox; enable it in the dashboard`;
    case 'ip-denied':
      return `Access denied: your IP address is not allowed to use ${SERVICE_NAMES[service]} for this mailbox`;
  }
}

/**
 * A refused login. 'bad-credentials' and 'locked' tell nothing about the account (each edge
 * answers them alike); the other reasons come only after the credentials were verified, so
 * they may say more. The message is `accessDeniedSentence(reason, service)`.
 */
export class AccessDenied extends Error {
  constructor(
    readonly reason: AccessDeniedReason,
    readonly service: AccessService,
  ) {
    super(accessDeniedSentence(reason, service));
    this.name = 'AccessDenied';
  }
}

export interface LoginAttempt {
  /** The authentication identity (PLAIN authcid, LOGIN/USER name). */
  username: string;
  /** PLAIN only: the authorization identity (RFC 4616), '' when none. */
  authzid: string;
  password: string;
  ip: string;
  service: AccessService;
}
