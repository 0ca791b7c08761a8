import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { buildAutoReplyHeaders, type HeaderMap } from '@mailroom/rules';
import type { VacationPlan } from './delivery-planner';

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
