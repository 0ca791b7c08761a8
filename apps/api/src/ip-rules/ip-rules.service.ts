import { Injectable } from '@nestjs/common';
import { Conflict, LimitExceeded, NotFound, ValidationFailed } from '@mailroom/core';
import type { IpAccessRule, Tenant } from '@mailroom/db';
import { evaluateIpAccess, validateCidr } from '@mailroom/rules';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import { isUuid } from '../mailboxes/mailbox-scope';
import { IpRuleRepository } from './ip-rule.repository';
import {
  MAX_IP_RULES,
  type CheckIpDto,
  type CreateIpRuleDto,
  type IpRuleResponse,
  type ListIpRulesQuery,
  type UpdateIpRuleDto,
} from './ip-rule.dto';

export function presentIpRule(r: IpAccessRule): IpRuleResponse {
  return {
    id: r.id,
    cidr: r.cidr,
    action: r.action,
    service: r.service,
    priority: r.priority,
    description: r.description,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

function normalizedCidr(input: string): string {
  const result = validateCidr(input);
  if (!result.ok) {
    throw new ValidationFailed('The request has invalid fields.', [{ field: 'cidr', message: result.error }]);
  }
  return result.cidr;
}

/**
 * IP access rules for submission, POP3 and IMAP, evaluated by libs/rules evaluateIpAccess:
 * only the service's rules count; lowest priority first, then the longest prefix, then deny
 * before allow; the first rule containing the address decides. With no match the address is
 * allowed, unless the service has an allow rule: then the rules are an allowlist.
 */
@Injectable()
export class IpRulesService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly rules: IpRuleRepository,
  ) {}

  async list(tenant: Tenant, query: ListIpRulesQuery): Promise<Page<IpRuleResponse>> {
    const page = keyset(
      parseSort(query.sort, ['priority', 'createdAt'] as const, 'priority'),
      query.cursor,
      query.limit,
    );
    const rows = await this.db.tenant(tenant.id, (tx) =>
      this.rules.list(tx, tenant.id, { service: query.service, action: query.action }, page),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentIpRule), nextCursor };
  }

  async get(tenant: Tenant, ruleId: string): Promise<IpRuleResponse> {
    return presentIpRule(await this.db.tenant(tenant.id, (tx) => this.load(tx, tenant.id, ruleId)));
  }

  async create(call: CallContext, tenant: Tenant, dto: CreateIpRuleDto): Promise<IpRuleResponse> {
    const cidr = normalizedCidr(dto.cidr);
    return this.db.tenant(tenant.id, async (tx) => {
      await this.rules.lockTenant(tx, tenant.id);
      const count = await this.rules.count(tx, tenant.id);
      if (count >= MAX_IP_RULES) {
        throw new LimitExceeded(`A tenant has at most ${MAX_IP_RULES} IP access rules.`, {
          limit: 'ipRules',
          value: MAX_IP_RULES,
        });
      }
      await this.assertUnique(tx, tenant.id, cidr, dto.service, null);
      const created = await this.rules.create(tx, tenant.id, {
        cidr,
        action: dto.action,
        service: dto.service,
        priority: dto.priority,
        description: dto.description || null,
      });
      await this.record(tx, call, 'ip_rule.create', created, null);
      return presentIpRule(created);
    });
  }

  async update(call: CallContext, tenant: Tenant, ruleId: string, dto: UpdateIpRuleDto): Promise<IpRuleResponse> {
    const cidr = dto.cidr === undefined ? undefined : normalizedCidr(dto.cidr);
    return this.db.tenant(tenant.id, async (tx) => {
      await this.rules.lockTenant(tx, tenant.id);
      const before = await this.load(tx, tenant.id, ruleId);
      await this.assertUnique(tx, tenant.id, cidr ?? before.cidr, dto.service ?? before.service, before.id);
      const after = await this.rules.update(tx, tenant.id, before.id, {
        cidr,
        action: dto.action,
        service: dto.service,
        priority: dto.priority,
        description: dto.description === undefined ? undefined : dto.description || null,
      });
      await this.record(tx, call, 'ip_rule.update', after, before);
      return presentIpRule(after);
    });
  }

  async remove(call: CallContext, tenant: Tenant, ruleId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      const before = await this.load(tx, tenant.id, ruleId);
      await this.rules.remove(tx, tenant.id, before.id);
      await this.record(tx, call, 'ip_rule.delete', null, before);
    });
  }

  /** What the servers would decide for this address: the same matcher, the tenant's rules. */
  async check(tenant: Tenant, dto: CheckIpDto) {
    const rules = await this.db.tenant(tenant.id, (tx) => this.rules.forService(tx, tenant.id, dto.service));
    const decision = evaluateIpAccess(rules, dto.service, dto.ip);
    return {
      allowed: decision.allowed,
      reason: decision.reason,
      rule: decision.rule ? presentIpRule(decision.rule) : null,
    };
  }

  private async load(tx: Tx, tenantId: string, ruleId: string): Promise<IpAccessRule> {
    const rule = isUuid(ruleId) ? await this.rules.find(tx, tenantId, ruleId) : null;
    if (!rule) throw new NotFound(`IP rule ${ruleId} not found.`);
    return rule;
  }

  /** One rule per network and service: two would only make the order harder to read. */
  private async assertUnique(
    tx: Tx,
    tenantId: string,
    cidr: string,
    service: IpAccessRule['service'],
    exceptId: string | null,
  ) {
    const twin = await this.rules.findTwin(tx, tenantId, cidr, service, exceptId);
    if (twin) throw new Conflict(`A ${service} rule for ${cidr} already exists (${twin.id}); change that one instead.`);
  }

  private record(tx: Tx, call: CallContext, action: string, after: IpAccessRule | null, before: IpAccessRule | null) {
    const target = (after ?? before)!;
    return this.audit.record(tx, call, {
      tenantId: target.tenantId,
      action,
      targetType: 'ip_rule',
      targetId: target.id,
      before: before ? presentIpRule(before) : null,
      after: after ? presentIpRule(after) : null,
    });
  }
}
