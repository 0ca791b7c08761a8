import { evaluateFilters } from './filter-engine';
import type { FilterRule } from './filter-schema';
import type { MessageSummary } from './message-summary';
import { shouldAutoReply, type VacationSettings } from './vacation';

/** A mailbox a recipient reaches, with what quota checks need. */
export interface MailboxTarget {
  tenantId: string;
  mailboxId: string;
  /** The mailbox's own address (local part @ the domain it lives in). */
  address: string;
  domainName: string;
  quotaBytes: bigint;
  usedBytes: bigint;
  spamJunkThreshold: number | null;
}

/** What a recipient asked of delivery status notifications (RFC 3461 NOTIFY and ORCPT). */
export interface RecipientDsn {
  /** Upper-case NOTIFY tokens; empty when the client gave none. */
  notify: string[];
  /** `rfc822;address`, decoded, or null. */
  orcpt: string | null;
}

/** A hosted recipient as the plan needs it (the MTA's resolved recipient is one). */
export interface PlanRecipient {
  /** The RCPT TO address as given. */
  address: string;
  tenant: { id: string; spamJunkThreshold: number | null; spamRejectThreshold: number | null };
  /** The recipient's domain (a domain alias's target, when it is one). */
  domainName: string;
  mailboxes: MailboxTarget[];
  /** External addresses an alias sends a copy to. */
  forwards: string[];
  dsn?: RecipientDsn | null;
}

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

export type FolderChoice = { kind: 'inbox' } | { kind: 'junk' } | { kind: 'sent' } | { kind: 'named'; name: string };

/** One stored copy: a mailbox reached by one or more recipients gets exactly one. */
export interface MailboxCopy {
  target: MailboxTarget;
  envelopeTo: string;
  folder: FolderChoice;
  flags: string[];
  filterTrace: { matched: string[]; stopped: boolean; skipped: string[]; junk: boolean } | null;
}

export interface ForwardPlan {
  mailboxId: string | null;
  /** Our domain the forward leaves from (its DKIM key signs it). */
  fromDomain: string;
  recipients: string[];
  /** NOTIFY and ORCPT of the RCPT TO that led to this forward, relayed with it (RFC 3461 §6.2). */
  dsn: RecipientDsn | null;
}

export interface VacationPlan {
  mailboxId: string;
  mailboxAddress: string;
  fromDomain: string;
  to: string;
  subject: string;
  body: string;
}

export interface TenantPlan {
  tenantId: string;
  copies: MailboxCopy[];
  forwards: ForwardPlan[];
  vacations: VacationPlan[];
}

export interface PlanInput {
  recipients: PlanRecipient[];
  settings: Map<string, MailboxSettings>;
  summary: MessageSummary;
  envelopeFrom: string;
  spamScore: number;
  defaultJunkThreshold: number;
  defaultRejectThreshold: number;
  now: Date;
}

/** The delivery plan, or the reason the whole message is refused. */
export type DeliveryPlan =
  { kind: 'deliver'; tenants: TenantPlan[] } | { kind: 'reject'; reason: 'spam' | 'filter'; text: string };

/**
 * Decides, per mailbox, where a message goes: spam thresholds (mailbox, then tenant, then
 * config), filter rules, forwarding and vacation, all from libs/rules. SMTP has one reply per
 * message, so a refusal (spam above the reject threshold, a filter's reject) refuses the message
 * only when every recipient refuses it; otherwise refusing tenants file it as junk and refusing
 * filters keep no copy. Junk is neither forwarded nor answered by vacation.
 */
export function planDelivery(input: PlanInput): DeliveryPlan {
  const byTenant = groupByTenant(input.recipients);
  const rejectsSpam = [...byTenant.values()].map((r) => input.spamScore >= rejectThreshold(r[0]!, input));
  if (rejectsSpam.length > 0 && rejectsSpam.every(Boolean)) return { kind: 'reject', reason: 'spam', text: '' };
  const tenants: TenantPlan[] = [];
  let filterRejects = 0;
  let filterReject: string | null = null;
  let anything = false;
  for (const [tenantId, recipients] of byTenant) {
    const tenantRejects = input.spamScore >= rejectThreshold(recipients[0]!, input);
    const plan: TenantPlan = { tenantId, copies: [], forwards: [], vacations: [] };
    const seen = new Set<string>();
    for (const recipient of recipients) {
      if (recipient.forwards.length > 0 && !tenantRejects) {
        plan.forwards.push({
          mailboxId: null,
          fromDomain: recipient.domainName,
          recipients: recipient.forwards,
          dsn: recipient.dsn ?? null,
        });
        anything = true;
      }
      for (const target of recipient.mailboxes) {
        if (seen.has(target.mailboxId)) continue;
        seen.add(target.mailboxId);
        const junk = tenantRejects || input.spamScore >= junkThreshold(target, recipient, input);
        const rejected = planMailbox(plan, target, recipient, junk, input);
        if (rejected !== null) {
          filterRejects++;
          filterReject ??= rejected;
        } else anything = true;
      }
    }
    tenants.push(plan);
  }
  if (!anything && filterRejects > 0) return { kind: 'reject', reason: 'filter', text: filterReject ?? '' };
  return { kind: 'deliver', tenants };
}

/** Adds one mailbox's copy, forwards and vacation reply; returns a filter's reject text instead. */
function planMailbox(
  plan: TenantPlan,
  target: MailboxTarget,
  recipient: PlanRecipient,
  junk: boolean,
  input: PlanInput,
): string | null {
  const settings = input.settings.get(target.mailboxId);
  const summary: MessageSummary = { ...input.summary, spamScore: input.spamScore, spamVerdict: junk ? 'spam' : 'ham' };
  const evaluation = evaluateFilters(settings?.filters ?? [], summary);
  const filter = evaluation.plan;
  if (filter.reject !== null) return filter.reject;
  const forwarding = junk ? null : (settings?.forwarding ?? null);
  const keep = filter.keep && (forwarding?.keepCopy ?? true);
  if (keep) {
    const folder: FolderChoice = filter.folder
      ? { kind: 'named', name: filter.folder }
      : junk
        ? { kind: 'junk' }
        : { kind: 'inbox' };
    plan.copies.push({
      target,
      envelopeTo: recipient.address,
      folder,
      flags: [...(filter.markRead ? ['\\Seen'] : []), ...(filter.flagged ? ['\\Flagged'] : [])],
      filterTrace: {
        matched: evaluation.matched.map((m) => m.name),
        stopped: evaluation.stopped,
        skipped: settings?.skippedFilters ?? [],
        junk,
      },
    });
  }
  const forwards = junk ? [] : [...filter.forwards, ...filter.redirects, ...(forwarding?.targets ?? [])];
  if (forwards.length > 0) {
    plan.forwards.push({
      mailboxId: target.mailboxId,
      fromDomain: target.domainName,
      recipients: unique(forwards),
      dsn: recipient.dsn ?? null,
    });
  }
  const vacation = settings?.vacation;
  if (vacation && !junk && keep) {
    const decision = shouldAutoReply({
      vacation: vacation.settings,
      now: input.now,
      lastRepliedAt: vacation.lastRepliedAt,
      envelopeFrom: input.envelopeFrom,
      headers: input.summary.headers,
      recipientAddresses: unique([target.address, recipient.address]),
    });
    if (decision.reply) {
      plan.vacations.push({
        mailboxId: target.mailboxId,
        mailboxAddress: target.address,
        fromDomain: target.domainName,
        to: input.envelopeFrom,
        subject: vacation.subject,
        body: vacation.body,
      });
    }
  }
  return null;
}

function groupByTenant(recipients: PlanRecipient[]): Map<string, PlanRecipient[]> {
  const map = new Map<string, PlanRecipient[]>();
  for (const r of recipients) map.set(r.tenant.id, [...(map.get(r.tenant.id) ?? []), r]);
  return map;
}

function rejectThreshold(recipient: PlanRecipient, input: PlanInput): number {
  return recipient.tenant.spamRejectThreshold ?? input.defaultRejectThreshold;
}

function junkThreshold(target: MailboxTarget, recipient: PlanRecipient, input: PlanInput): number {
  return target.spamJunkThreshold ?? recipient.tenant.spamJunkThreshold ?? input.defaultJunkThreshold;
}

function unique(addresses: string[]): string[] {
  const seen = new Set<string>();
  return addresses.filter((a) => !seen.has(a.toLowerCase()) && seen.add(a.toLowerCase()));
}
