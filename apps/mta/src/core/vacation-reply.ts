import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import {
  buildAutoReplyHeaders,
  type HeaderMap,
  type MessageSummary,
  type TenantPlan,
  type VacationPlan,
} from '@mailroom/rules';

/** A vacation reply as stored in the outbox: RFC 3834 headers, sent later with MAIL FROM:<>. */
export async function composeVacationReply(plan: VacationPlan, original: HeaderMap): Promise<Buffer> {
  const headers = buildAutoReplyHeaders({ originalHeaders: original, configuredSubject: plan.subject });
  const { Subject: subject, ...rest } = headers;
  const composer = new MailComposer({
    from: plan.mailboxAddress,
    to: plan.to,
    subject,
    text: plan.body,
    messageId: `<${randomUUID()}@${plan.fromDomain}>`,
    date: new Date(),
    headers: rest,
  });
  return composer.compile().build();
}

/** Vacation replies composed before the commit, so the transaction does no MIME work. */
export async function composeReplies(
  tenants: TenantPlan[],
  summary: MessageSummary,
): Promise<Map<VacationPlan, Buffer>> {
  const out = new Map<VacationPlan, Buffer>();
  for (const plan of tenants.flatMap((t) => t.vacations)) {
    out.set(plan, await composeVacationReply(plan, summary.headers));
  }
  return out;
}
