import { Injectable } from '@nestjs/common';
import { LimitExceeded, NotFound, ValidationFailed } from '@mailroom/core';
import type { FilterRule as FilterRow, JsonValue, Tenant } from '@mailroom/db';
import { evaluateFilters, messageSummaryFromHeaders, validateFilterRule, type FilterRule } from '@mailroom/rules';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import { assertLive } from '../mailboxes/mailboxes.service';
import { isUuid, MailboxScope } from '../mailboxes/mailbox-scope';
import { FilterRepository, type FilterRuleFields } from './filter.repository';
import {
  MAX_FILTERS_PER_MAILBOX,
  type FilterResponse,
  type ListFiltersQuery,
  type ReorderFiltersDto,
  type TestFiltersDto,
} from './filter.dto';

export function presentFilter(f: FilterRow): FilterResponse {
  return {
    id: f.id,
    mailboxId: f.mailboxId,
    position: f.position,
    name: f.name,
    enabled: f.enabled,
    matchMode: f.matchMode === 'any' ? 'any' : 'all',
    conditions: f.conditions as unknown[],
    actions: f.actions as unknown[],
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}

/** A rule body checked by the filter engine's own schema; errors name each field. */
function validRule(input: unknown): FilterRule {
  const result = validateFilterRule(input);
  if (result.ok) return result.rule;
  throw new ValidationFailed(
    'The filter rule has invalid fields.',
    result.errors.map((e) => ({ field: e.field || '(body)', message: e.message })),
  );
}

/** The rule part of a stored row, as the engine's schema reads it. */
function storedRule(f: FilterRow) {
  return { name: f.name, enabled: f.enabled, matchMode: f.matchMode, conditions: f.conditions, actions: f.actions };
}

function ruleData(rule: FilterRule): FilterRuleFields {
  return {
    name: rule.name,
    enabled: rule.enabled,
    matchMode: rule.matchMode,
    conditions: rule.conditions as JsonValue,
    actions: rule.actions as JsonValue,
  };
}

/**
 * A mailbox's ordered filter rules. New rules go last; PUT .../filters/order sets the whole
 * order at once. POST .../filters/test runs the enabled rules on a message without delivering.
 */
@Injectable()
export class FiltersService {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly filters: FilterRepository,
  ) {}

  async list(
    call: CallContext,
    tenant: Tenant,
    mailboxId: string,
    query: ListFiltersQuery,
  ): Promise<Page<FilterResponse>> {
    const page = keyset(parseSort(query.sort, ['position'] as const, 'position'), query.cursor, query.limit);
    const rows = await this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      return this.filters.page(tx, tenant.id, mailbox.id, page);
    });
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentFilter), nextCursor };
  }

  async get(call: CallContext, tenant: Tenant, mailboxId: string, filterId: string): Promise<FilterResponse> {
    return presentFilter(await this.db.tenant(tenant.id, (tx) => this.load(tx, call, tenant.id, mailboxId, filterId)));
  }

  async create(call: CallContext, tenant: Tenant, mailboxId: string, body: unknown): Promise<FilterResponse> {
    const rule = validRule(body);
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(mailbox);
      await this.scope.lockMailbox(tx, tenant.id, mailbox.id);
      const count = await this.filters.count(tx, tenant.id, mailbox.id);
      if (count >= MAX_FILTERS_PER_MAILBOX) {
        throw new LimitExceeded(`A mailbox has at most ${MAX_FILTERS_PER_MAILBOX} filter rules.`, {
          limit: 'filtersPerMailbox',
          value: MAX_FILTERS_PER_MAILBOX,
        });
      }
      const created = await this.filters.append(tx, tenant.id, mailbox.id, ruleData(rule));
      await this.record(
        tx,
        call,
        'filter.create',
        { tenantId: tenant.id, id: created.id },
        null,
        presentFilter(created),
      );
      return presentFilter(created);
    });
  }

  /** Changes the given fields; the merged rule is validated whole. */
  async update(
    call: CallContext,
    tenant: Tenant,
    mailboxId: string,
    filterId: string,
    body: unknown,
  ): Promise<FilterResponse> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ValidationFailed('The request has invalid fields.', [
        { field: '(body)', message: 'must be an object' },
      ]);
    }
    return this.db.tenant(tenant.id, async (tx) => {
      const before = await this.load(tx, call, tenant.id, mailboxId, filterId, true);
      const rule = validRule({ ...storedRule(before), ...body });
      const after = await this.filters.update(tx, tenant.id, before.id, ruleData(rule));
      await this.record(
        tx,
        call,
        'filter.update',
        { tenantId: tenant.id, id: before.id },
        presentFilter(before),
        presentFilter(after),
      );
      return presentFilter(after);
    });
  }

  async remove(call: CallContext, tenant: Tenant, mailboxId: string, filterId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      const before = await this.load(tx, call, tenant.id, mailboxId, filterId);
      await this.filters.remove(tx, tenant.id, before.id);
      await this.record(tx, call, 'filter.delete', { tenantId: tenant.id, id: before.id }, presentFilter(before), null);
    });
  }

  /** Sets the order of all the mailbox's rules: `ids` must list each of them exactly once. */
  async reorder(
    call: CallContext,
    tenant: Tenant,
    mailboxId: string,
    dto: ReorderFiltersDto,
  ): Promise<{ items: FilterResponse[] }> {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(mailbox);
      await this.scope.lockMailbox(tx, tenant.id, mailbox.id);
      const rules = await this.filters.all(tx, tenant.id, mailbox.id);
      const known = new Set(rules.map((r) => r.id));
      const problems = dto.ids.flatMap((id, i) =>
        !known.has(id)
          ? [{ field: `ids.${i}`, message: `${id} is not a filter of this mailbox` }]
          : dto.ids.indexOf(id) !== i
            ? [{ field: `ids.${i}`, message: `repeats ids.${dto.ids.indexOf(id)}` }]
            : [],
      );
      const missing = rules.filter((r) => !dto.ids.includes(r.id));
      if (missing.length) {
        problems.push({
          field: 'ids',
          message: `must list every filter; missing ${missing.map((r) => r.id).join(', ')}`,
        });
      }
      if (problems.length) throw new ValidationFailed('The request has invalid fields.', problems);
      for (const [i, id] of dto.ids.entries()) {
        await this.filters.setPosition(tx, tenant.id, id, i + 1);
      }
      await this.record(
        tx,
        call,
        'filter.reorder',
        { tenantId: tenant.id, id: mailbox.id, type: 'mailbox' },
        { ids: rules.map((r) => r.id) },
        { ids: dto.ids },
      );
      const after = await this.filters.all(tx, tenant.id, mailbox.id);
      return { items: after.map(presentFilter) };
    });
  }

  /** Runs the mailbox's enabled rules on a raw message and says what would happen; nothing is delivered. */
  async test(call: CallContext, tenant: Tenant, mailboxId: string, dto: TestFiltersDto) {
    const rows = await this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      return this.filters.all(tx, tenant.id, mailbox.id);
    });
    // A stored rule that no longer passes today's checks is left out, as delivery would.
    const usable = rows.flatMap((row) => {
      const checked = validateFilterRule(storedRule(row));
      return checked.ok ? [{ row, rule: checked.rule }] : [];
    });
    const summary = messageSummaryFromHeaders(dto.message, Buffer.byteLength(dto.message, 'utf8'), {
      spamScore: dto.spamScore ?? null,
      spamVerdict: dto.spamVerdict ?? null,
      auth: dto.auth ?? {},
    });
    const result = evaluateFilters(
      usable.map((u) => u.rule),
      summary,
    );
    return {
      matched: result.matched.map((m) => {
        const row = usable[m.index]!.row;
        return { id: row.id, name: row.name, position: row.position };
      }),
      stopped: result.stopped,
      plan: result.plan,
    };
  }

  private async load(
    tx: Tx,
    call: CallContext,
    tenantId: string,
    mailboxId: string,
    filterId: string,
    live = false,
  ): Promise<FilterRow> {
    const mailbox = await this.scope.loadMailbox(tx, call.principal, tenantId, mailboxId);
    if (live) assertLive(mailbox);
    const rule = isUuid(filterId) ? await this.filters.find(tx, tenantId, mailbox.id, filterId) : null;
    if (!rule) throw new NotFound(`Filter ${filterId} not found.`);
    return rule;
  }

  private record(
    tx: Tx,
    call: CallContext,
    action: string,
    target: { tenantId: string; id: string; type?: string },
    before: unknown,
    after: unknown,
  ) {
    const { tenantId, id, type = 'filter' } = target;
    return this.audit.record(tx, call, { tenantId, action, targetType: type, targetId: id, before, after });
  }
}
