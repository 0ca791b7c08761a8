import type { MailboxSettings } from '@mailroom/rules';
import type { DeliverySettingsRepository } from './delivery-settings.repository';
import type { LocalRecipient } from './recipient-resolver';

/**
 * Filters, vacation and forwarding of every mailbox the recipients reach that had any when RCPT
 * was answered, in one query; none when no mailbox had any (the plan reads a missing entry as
 * no filters, no vacation, no forwarding).
 */
export async function loadRecipientSettings(
  repo: DeliverySettingsRepository,
  recipients: LocalRecipient[],
  sender: string,
): Promise<Map<string, MailboxSettings>> {
  const mailboxes = new Map<string, { tenantId: string; mailboxId: string }>();
  for (const r of recipients) {
    for (const mailboxId of r.mailboxesWithRules) mailboxes.set(mailboxId, { tenantId: r.tenant.id, mailboxId });
  }
  if (mailboxes.size === 0) return new Map();
  return repo.load([...mailboxes.values()], sender);
}
