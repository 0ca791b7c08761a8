import { defineStatement, type PrismaClient } from '@mailroom/db';
import { validateFilterRule, vacationSenderKey, type MailboxSettings } from '@mailroom/rules';

export type { MailboxSettings, VacationConfig } from '@mailroom/rules';

interface SettingsSqlRow {
  mailbox_id: string;
  filters: Array<{ name: string; enabled: boolean; matchMode: string; conditions: unknown; actions: unknown }>;
  v_enabled: boolean | null;
  v_starts_at: Date | null;
  v_ends_at: Date | null;
  v_interval_days: number | null;
  v_subject: string | null;
  v_body: string | null;
  fwd_targets: string[] | null;
  fwd_keep_copy: boolean | null;
  last_replied_at: Date | null;
}

/**
 * $1 tenant ids, $2 mailbox ids (same length), $3 the vacation sender key. A named prepared
 * statement: its generic plan (index lookups per mailbox) was checked against a big and a small
 * tenant with bench/statement-plans.mjs.
 */
const SETTINGS = defineStatement<SettingsSqlRow, [string[], string[], string | null]>(
  'delivery_settings',
  `SELECT m.id::text AS mailbox_id,
     (SELECT coalesce(json_agg(json_build_object('name', f.name, 'enabled', f.enabled, 'matchMode', f.match_mode,
               'conditions', f.conditions, 'actions', f.actions) ORDER BY f.position, f.id), '[]'::json)
        FROM filter_rules f WHERE f.tenant_id = m.tenant_id AND f.mailbox_id = m.id AND f.enabled) AS filters,
     v.enabled AS v_enabled, v.starts_at AS v_starts_at, v.ends_at AS v_ends_at,
     v.interval_days AS v_interval_days, v.subject AS v_subject, v.body AS v_body,
     r.targets AS fwd_targets, r.keep_copy AS fwd_keep_copy,
     (SELECT l.last_sent_at FROM vacation_logs l
        WHERE l.tenant_id = m.tenant_id AND l.mailbox_id = m.id AND l.sender = $3) AS last_replied_at
   FROM unnest($1::uuid[], $2::uuid[]) AS m(tenant_id, id)
   -- One row per mailbox at most (unique keys). LATERAL ... LIMIT 1 keeps the index lookup per
   -- mailbox in the generic plan, which otherwise guesses 10 mailboxes and hashes a whole table.
   LEFT JOIN LATERAL (
     SELECT v.enabled, v.starts_at, v.ends_at, v.interval_days, v.subject, v.body FROM vacation_replies v
     WHERE v.tenant_id = m.tenant_id AND v.mailbox_id = m.id AND v.enabled LIMIT 1
   ) v ON true
   LEFT JOIN LATERAL (
     SELECT r.targets, r.keep_copy FROM forwarding_rules r
     WHERE r.tenant_id = m.tenant_id AND r.mailbox_id = m.id AND r.enabled LIMIT 1
   ) r ON true`,
);

/**
 * Reads the per-mailbox rules the delivery plan needs, for all mailboxes a message reaches at
 * once, whatever their tenants: one statement per message (it used to be four Prisma queries
 * per tenant).
 */
export class DeliverySettingsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async load(
    mailboxes: Array<{ tenantId: string; mailboxId: string }>,
    sender: string,
  ): Promise<Map<string, MailboxSettings>> {
    const senderKey = sender ? vacationSenderKey(sender) : null;
    const tenantIds = mailboxes.map((m) => m.tenantId);
    const mailboxIds = mailboxes.map((m) => m.mailboxId);
    const rows = await SETTINGS.run(this.prisma, [tenantIds, mailboxIds, senderKey]);
    const result = new Map<string, MailboxSettings>();
    for (const row of rows) {
      const settings: MailboxSettings = { filters: [], skippedFilters: [], vacation: null, forwarding: null };
      for (const stored of row.filters) {
        const checked = validateFilterRule(stored);
        if (checked.ok) settings.filters.push(checked.rule);
        else settings.skippedFilters.push(stored.name);
      }
      if (row.v_enabled !== null) {
        settings.vacation = {
          settings: {
            enabled: row.v_enabled,
            startsAt: row.v_starts_at,
            endsAt: row.v_ends_at,
            intervalDays: row.v_interval_days ?? 7,
          },
          subject: row.v_subject ?? '',
          body: row.v_body ?? '',
          lastRepliedAt: row.last_replied_at,
        };
      }
      if (row.fwd_targets !== null) {
        settings.forwarding = { targets: row.fwd_targets, keepCopy: row.fwd_keep_copy ?? true };
      }
      result.set(row.mailbox_id, settings);
    }
    return result;
  }
}
