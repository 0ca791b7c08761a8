import { AccessDenied, type AccessAuthenticator, type AccessUser } from '@mailroom/access';
import type { SmtpReply } from '../core/smtp-reply';
import { submissionReplies } from './submission-replies';

/** Who a submission session is, once AUTH succeeded. */
export type SubmissionUser = Pick<
  AccessUser,
  'login' | 'tenantId' | 'mailboxId' | 'domainId' | 'domainName' | 'address' | 'quotaBytes' | 'usedBytes'
>;

export interface AuthAttempt {
  /** The authentication identity (PLAIN authcid, LOGIN username). */
  username: string;
  /** PLAIN only: the authorization identity (RFC 4616), '' when none. */
  authzid: string;
  password: string;
  ip: string;
}

/** The SMTP answer to each refusal; bad credentials and a lock share one text (RFC 4954 §6). */
function replyFor(denied: AccessDenied): SmtpReply {
  switch (denied.reason) {
    case 'bad-credentials':
    case 'locked':
      return submissionReplies.authFailed();
    case 'authzid':
      return submissionReplies.authzidMismatch();
    case 'mailbox-disabled':
      return submissionReplies.mailboxDisabled();
    case 'suspended':
      return submissionReplies.serviceSuspended();
    case 'service-disabled':
      return submissionReplies.submissionDisabled();
    case 'ip-denied':
      return submissionReplies.ipDenied();
  }
}

/**
 * AUTH PLAIN and LOGIN of the submission ports: the shared AccessAuthenticator for service
 * 'smtp' (mailbox password, or an app password scoped to smtp; the lockout IMAP and POP3 count
 * in too), its refusals mapped to submission replies.
 */
export class MailboxAuthenticator {
  constructor(private readonly access: AccessAuthenticator) {}

  async authenticate(attempt: AuthAttempt): Promise<SubmissionUser> {
    try {
      return await this.access.authenticate({ ...attempt, service: 'smtp' });
    } catch (err) {
      throw err instanceof AccessDenied ? replyFor(err) : err;
    }
  }
}
