import type { MailboxSettings } from '@mailroom/rules';
import type { DeliverySettingsRepository } from './delivery-settings.repository';
import type { LocalRecipient } from './recipient-resolver';

/** Filters, vacation and forwarding of every mailbox the recipients reach, in one query. */
export async function loadRecipientSettings(
  repo: DeliverySettingsRepository,
  recipients: LocalRecipient[],
  sender: string,
): Promise<Map<string, MailboxSettings>> {
  const mailboxes = new Map<string, { tenantId: string; mailboxId: string }>();
  for (const r of recipients) {
    for (const m of r.mailboxes) mailboxes.set(m.mailboxId, { tenantId: r.tenant.id, mailboxId: m.mailboxId });
  }
  if (mailboxes.size === 0) return new Map();
  return repo.load([...mailboxes.values()], sender);
}
