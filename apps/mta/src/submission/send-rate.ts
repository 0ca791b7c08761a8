import type { SmtpReply } from '../core/smtp-reply';
import type { Counters } from '@mailroom/access';
import { submissionReplies } from './submission-replies';

export interface SendRateOptions {
  mailboxMessagesPerHour: number;
  tenantMessagesPerHour: number;
}

const HOUR_MS = 3_600_000;

/**
 * Messages per hour per mailbox and per tenant, in fixed one-hour windows. MAIL FROM only looks
 * (so a client over the limit learns it before sending the data); the end of DATA counts the
 * message and refuses it when that puts it over. A message whose commit then fails still
 * counts: the limit errs on the side of sending less.
 */
export class SendRate {
  constructor(
    private readonly counters: Counters,
    private readonly options: SendRateOptions,
  ) {}

  /** The reply refusing a new message now, or null. */
  async check(tenantId: string, mailboxId: string): Promise<SmtpReply | null> {
    const [mailbox, tenant] = await Promise.all([
      this.counters.peek(this.counters.key('sent-mbx', mailboxId)),
      this.counters.peek(this.counters.key('sent-tenant', tenantId)),
    ]);
    return this.verdict(mailbox, tenant);
  }

  /** Counts one message; the reply refusing it when it is over a limit, or null. */
  async count(tenantId: string, mailboxId: string): Promise<SmtpReply | null> {
    const mailbox = await this.counters.hit(this.counters.key('sent-mbx', mailboxId), HOUR_MS);
    if (mailbox !== null && mailbox > this.options.mailboxMessagesPerHour) {
      return submissionReplies.mailboxRateLimited(this.options.mailboxMessagesPerHour);
    }
    const tenant = await this.counters.hit(this.counters.key('sent-tenant', tenantId), HOUR_MS);
    return this.verdict(null, tenant === null ? null : tenant - 1);
  }

  private verdict(mailbox: number | null, tenant: number | null): SmtpReply | null {
    if (mailbox !== null && mailbox >= this.options.mailboxMessagesPerHour) {
      return submissionReplies.mailboxRateLimited(this.options.mailboxMessagesPerHour);
    }
    if (tenant !== null && tenant >= this.options.tenantMessagesPerHour) {
      return submissionReplies.tenantRateLimited(this.options.tenantMessagesPerHour);
    }
    return null;
  }
}
