import type { MailboxSettings } from '@mailroom/rules';
import type { DeliverySettingsRepository } from './delivery-settings.repository';
import type { LocalRecipient } from './recipient-resolver';

/** Filters, vacation and forwarding of every mailbox the recipients reach, one query per tenant. */
export async function loadRecipientSettings(
  repo: DeliverySettingsRepository,
  recipients: LocalRecipient[],
  sender: string,
): Promise<Map<string, MailboxSettings>> {
  const byTenant = new Map<string, Set<string>>();
  for (const r of recipients) {
    const ids = byTenant.get(r.tenant.id) ?? new Set<string>();
    for (const m of r.mailboxes) ids.add(m.mailboxId);
    byTenant.set(r.tenant.id, ids);
  }
  const merged = new Map<string, MailboxSettings>();
  for (const [tenantId, ids] of byTenant) {
    if (ids.size === 0) continue;
    for (const [id, s] of await repo.load(tenantId, [...ids], sender)) merged.set(id, s);
  }
  return merged;
}
