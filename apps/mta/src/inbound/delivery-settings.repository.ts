import type { PrismaClient } from '@mailroom/db';
import { validateFilterRule, vacationSenderKey, type FilterRule, type VacationSettings } from '@mailroom/rules';

export interface VacationConfig {
  settings: VacationSettings;
  subject: string;
  body: string;
  lastRepliedAt: Date | null;
}

/** What one mailbox says about incoming mail: filter rules, vacation, forwarding. */
export interface MailboxSettings {
  filters: FilterRule[];
  /** Names of stored rules that no longer validate; they are skipped, never run. */
  skippedFilters: string[];
  vacation: VacationConfig | null;
  forwarding: { targets: string[]; keepCopy: boolean } | null;
}

/** Reads the per-mailbox rules the delivery plan needs, for all mailboxes of a tenant at once. */
export class DeliverySettingsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async load(tenantId: string, mailboxIds: string[], sender: string): Promise<Map<string, MailboxSettings>> {
    const where = { tenantId, mailboxId: { in: mailboxIds } };
    const [filters, vacations, forwarding, logs] = await Promise.all([
      this.prisma.filterRule.findMany({ where: { ...where, enabled: true }, orderBy: { position: 'asc' } }),
      this.prisma.vacationReply.findMany({ where: { ...where, enabled: true } }),
      this.prisma.forwardingRule.findMany({ where: { ...where, enabled: true } }),
      sender
        ? this.prisma.vacationLog.findMany({ where: { ...where, sender: vacationSenderKey(sender) } })
        : Promise.resolve([]),
    ]);
    const result = new Map<string, MailboxSettings>();
    for (const id of mailboxIds) result.set(id, { filters: [], skippedFilters: [], vacation: null, forwarding: null });
    for (const row of filters) {
      const settings = result.get(row.mailboxId)!;
      const checked = validateFilterRule({
        name: row.name,
        enabled: row.enabled,
        matchMode: row.matchMode,
        conditions: row.conditions,
        actions: row.actions,
      });
      if (checked.ok) settings.filters.push(checked.rule);
      else settings.skippedFilters.push(row.name);
    }
    for (const row of vacations) {
      const lastRepliedAt = logs.find((l) => l.mailboxId === row.mailboxId)?.lastSentAt ?? null;
      result.get(row.mailboxId)!.vacation = {
        settings: { enabled: row.enabled, startsAt: row.startsAt, endsAt: row.endsAt, intervalDays: row.intervalDays },
        subject: row.subject,
        body: row.body,
        lastRepliedAt,
      };
    }
    for (const row of forwarding) {
      result.get(row.mailboxId)!.forwarding = { targets: row.targets, keepCopy: row.keepCopy };
    }
    return result;
  }
}
