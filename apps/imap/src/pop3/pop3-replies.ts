import type { AccessDeniedReason } from '@mailroom/access';

/**
 * Every fixed reply of the POP3 edge, with RFC 2449 / RFC 3206 response codes where one
 * applies: [AUTH] the credentials or the account's permission, [SYS/TEMP] try again later,
 * [SYS/PERM] an administrator has to act, [IN-USE] another session holds the maildrop.
 */
export const replies = {
  greeting: '+OK Mailroom POP3 ready.',
  capa: '+OK Capability list follows',
  stls: '+OK Begin TLS negotiation now.',
  stlsRefused: '-ERR STLS not available: the connection is already secure.',
  plaintextDisallowed: '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections',
  userOk: '+OK',
  passWithoutUser: '-ERR No username given.',
  loggedIn: '+OK Logged in.',
  authFailed: '-ERR [AUTH] Authentication failed',
  authzid: '-ERR [AUTH] Authentication failed: the authorization identity must be empty or equal to the login',
  serviceDisabled: '-ERR [AUTH] POP3 access is disabled for this mailbox; enable it in the dashboard',
  ipDenied:
    "-ERR [AUTH] Access denied: your IP address is not allowed to use POP3 for this mailbox by the tenant's rules",
  mailboxDisabled: '-ERR [SYS/PERM] This mailbox is disabled; ask your administrator',
  suspended: '-ERR [SYS/PERM] This account is suspended; ask your provider',
  tooManyFromIp: (limit: number) =>
    `-ERR [SYS/TEMP] Too many connections from your IP address (limit ${limit}); close some and try again`,
  inUse: '-ERR [IN-USE] Mailbox is locked by another POP3 session; try again when it has ended',
  tempFail: '-ERR [SYS/TEMP] Temporary server failure; try again later',
  unknownMechanism: '-ERR [AUTH] Unsupported authentication mechanism',
  authAborted: '-ERR Authentication aborted',
  badSasl: '-ERR [AUTH] Invalid SASL response',
  saslContinue: '+ ',
  tooManyFailures: '-ERR [AUTH] Too many failed logins; closing the connection',
  tooManyCommands: '-ERR Too many commands before login; closing the connection',
  unknownCommand: '-ERR Unknown command.',
  notInThisState: '-ERR Command not valid in this state.',
  lineTooLong: '-ERR Input line too long.',
  idle: '-ERR Disconnected for inactivity.',
  revoked: '-ERR [AUTH] Session ended: access to this mailbox was revoked',
  shuttingDown: '-ERR [SYS/TEMP] Server shutting down',
  noop: '+OK',
  logout: '+OK Logging out.',
  lockLost: '-ERR [SYS/TEMP] The mailbox lock was lost; no messages were deleted, try again',
  logoutNotAllDeleted: '-ERR [SYS/TEMP] Some deleted messages were not removed; they are still on the server',
  deleted: '+OK Marked to be deleted.',
  alreadyDeleted: '-ERR Message is deleted.',
  messageVanished: '-ERR Message was removed from the mailbox by another client.',
  invalidNumber: (arg: string) => `-ERR Invalid message number: ${arg.slice(0, 40)}`,
  noSuchMessage: (n: number) => `-ERR There's no message ${n}.`,
  invalidLines: '-ERR Invalid number of lines.',
  syntax: (usage: string) => `-ERR Syntax: ${usage}`,
} as const;

/** The reply to an AccessDenied reason (contracts §1), a sentence for each. */
export function deniedReply(reason: AccessDeniedReason): string {
  switch (reason) {
    case 'service-disabled':
      return replies.serviceDisabled;
    case 'ip-denied':
      return replies.ipDenied;
    case 'mailbox-disabled':
      return replies.mailboxDisabled;
    case 'suspended':
      return replies.suspended;
    case 'authzid':
      return replies.authzid;
    case 'bad-credentials':
    case 'locked':
      // Answered alike: a locked account is not told apart from a wrong password.
      return replies.authFailed;
  }
}
