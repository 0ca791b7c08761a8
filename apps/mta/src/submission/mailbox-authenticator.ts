import argon2 from 'argon2';
import { parseMailAddress } from '@mailroom/mail';
import { evaluateIpAccess } from '@mailroom/rules';
import type { LoginThrottle } from './login-throttle';
import type { LoginRow, SubmissionRepository } from './submission.repository';
import { submissionReplies } from './submission-replies';

/** Who a submission session is, once AUTH succeeded. */
export interface SubmissionUser {
  login: string;
  tenantId: string;
  mailboxId: string;
  domainId: string;
  domainName: string;
  /** The mailbox's own address, lower-case local part @ its domain. */
  address: string;
  quotaBytes: bigint;
  usedBytes: bigint;
}

export interface AuthAttempt {
  /** The authentication identity (PLAIN authcid, LOGIN username). */
  username: string;
  /** PLAIN only: the authorization identity (RFC 4616), '' when none. */
  authzid: string;
  password: string;
  ip: string;
}

const SIGN_IN_DOMAIN_STATUSES = new Set(['verified', 'active', 'degraded']);

/**
 * AUTH PLAIN and LOGIN against mailbox credentials. The login is the full mailbox address,
 * case-insensitive. Unknown logins are verified against a dummy hash, so both cost the same
 * argon2 work and answer the same 535; only a verified password earns a more specific answer
 * (submission disabled, IP denied).
 */
export class MailboxAuthenticator {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly repo: SubmissionRepository,
    private readonly throttle: LoginThrottle,
  ) {}

  async authenticate(attempt: AuthAttempt): Promise<SubmissionUser> {
    const login = attempt.username.trim();
    // Count failures against the account the login names, not its spelling: "bob@example.com.",
    // a soft hyphen or full-width letters all reach the same mailbox and must share one lock.
    const parsed = parseMailAddress(login, { smtputf8: true });
    const account = parsed.ok ? `${parsed.value.localKey}@${parsed.value.domain}` : login.toLowerCase();
    if (await this.throttle.isLocked(account, attempt.ip)) throw submissionReplies.authFailed();
    const row = await this.findAccount(login);
    this.dummyHash ??= argon2.hash('not a password', { type: argon2.argon2id });
    const hash = row ? row.passwordHash : await this.dummyHash;
    const ok = await argon2.verify(hash, attempt.password).catch(() => false);
    if (!row || !ok) {
      await this.throttle.failed(account, attempt.ip);
      throw submissionReplies.authFailed();
    }
    await this.throttle.succeeded(account);
    // RFC 4616 §2: acting as someone else is not offered, so the authzid may only repeat the login.
    if (attempt.authzid !== '' && attempt.authzid.toLowerCase() !== login.toLowerCase()) {
      throw submissionReplies.authzidMismatch();
    }
    await this.checkAllowed(row, attempt.ip);
    return {
      login,
      tenantId: row.tenantId,
      mailboxId: row.mailboxId,
      domainId: row.domainId,
      domainName: row.domainName,
      address: `${row.localPart}@${row.domainName}`,
      quotaBytes: row.quotaBytes,
      usedBytes: row.usedBytes,
    };
  }

  private async findAccount(login: string): Promise<LoginRow | null> {
    const parsed = parseMailAddress(login, { smtputf8: true });
    if (!parsed.ok) return null;
    const row = await this.repo.findLogin(parsed.value.domain, parsed.value.localKey);
    if (!row || row.mailboxStatus === 'deleted' || row.tenantStatus === 'deleted') return null;
    return row;
  }

  /** What a verified password may learn: the account exists but may not send from here. */
  private async checkAllowed(row: LoginRow, ip: string): Promise<void> {
    if (row.mailboxStatus !== 'active') throw submissionReplies.mailboxDisabled();
    if (row.tenantStatus !== 'active' || !SIGN_IN_DOMAIN_STATUSES.has(row.domainStatus)) {
      throw submissionReplies.serviceSuspended();
    }
    if (!row.smtpEnabled) throw submissionReplies.submissionDisabled();
    const decision = evaluateIpAccess(await this.repo.ipRules(row.tenantId), 'submission', ip);
    if (!decision.allowed) throw submissionReplies.ipDenied();
  }
}
