import { AccessDenied } from '@mailroom/access';

/** The logged-in mailbox as the IMAP session uses it (a subset of @mailroom/access AccessUser). */
export interface ImapUser {
  login: string;
  tenantId: string;
  mailboxId: string;
  address: string;
  quotaBytes: bigint;
  usedBytes: bigint;
  /** mailboxes.auth_version at login (isCurrent compares it). */
  authVersion: number;
}

/** One login attempt (contracts §1 LoginAttempt). */
export interface ImapLoginAttempt {
  username: string;
  authzid: string;
  password: string;
  ip: string;
  service: 'imap';
}

/**
 * What the session needs of @mailroom/access: AccessAuthenticator satisfies it. Refusals are
 * AccessDenied errors with a `reason` (contracts §1), mapped by loginFailure.
 */
export interface Authenticator {
  authenticate(attempt: ImapLoginAttempt): Promise<ImapUser>;
  /** False when the mailbox's auth_version moved since login (a revocation we may have missed). */
  isCurrent(user: Pick<ImapUser, 'tenantId' | 'mailboxId' | 'authVersion'>): Promise<boolean>;
}

/** The reason of an AccessDenied refusal, or null for any other error. */
export function deniedReason(err: unknown): string | null {
  if (err instanceof AccessDenied) return err.reason;
  return null;
}
