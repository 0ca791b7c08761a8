import { Injectable } from '@nestjs/common';
import type { IpAccessRule, IpRuleAction, IpRuleService, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

export interface IpRuleFields {
  cidr?: string | undefined;
  action?: IpRuleAction | undefined;
  service?: IpRuleService | undefined;
  priority?: number | undefined;
  description?: string | null | undefined;
}

/** The tenant's IP access rules. */
@Injectable()
export class IpRuleRepository {
  list(
    tx: Tx,
    tenantId: string,
    filter: { service?: IpRuleService | undefined; action?: IpRuleAction | undefined },
    page: PageWindow,
  ): Promise<IpAccessRule[]> {
    return tx.ipAccessRule.findMany({
      where: {
        AND: [
          { tenantId },
          page.where,
          filter.service ? { service: filter.service } : {},
          filter.action ? { action: filter.action } : {},
        ],
      },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  /** The rules of one service in evaluation order. */
  forService(tx: Tx, tenantId: string, service: IpRuleService): Promise<IpAccessRule[]> {
    return tx.ipAccessRule.findMany({
      where: { tenantId, service },
      orderBy: [{ priority: 'asc' }, { createdAt: 'asc' }],
    });
  }

  find(tx: Tx, tenantId: string, id: string): Promise<IpAccessRule | null> {
    return tx.ipAccessRule.findFirst({ where: { tenantId, id } });
  }

  /** The rule for this network and service, other than `exceptId`. */
  findTwin(
    tx: Tx,
    tenantId: string,
    cidr: string,
    service: IpRuleService,
    exceptId: string | null,
  ): Promise<IpAccessRule | null> {
    return tx.ipAccessRule.findFirst({
      where: { tenantId, cidr, service, ...(exceptId ? { id: { not: exceptId } } : {}) },
    });
  }

  count(tx: Tx, tenantId: string): Promise<number> {
    return tx.ipAccessRule.count({ where: { tenantId } });
  }

  create(
    tx: Tx,
    tenantId: string,
    rule: IpRuleFields & { cidr: string; action: IpRuleAction; service: IpRuleService },
  ): Promise<IpAccessRule> {
    return tx.ipAccessRule.create({ data: { tenantId, ...rule } });
  }

  update(tx: Tx, tenantId: string, id: string, change: IpRuleFields): Promise<IpAccessRule> {
    return tx.ipAccessRule.update({ where: { tenantId_id: { tenantId, id } }, data: change });
  }

  async remove(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.ipAccessRule.delete({ where: { tenantId_id: { tenantId, id } } });
  }

  /** Rule writes take the tenant row lock: the count limit and uniqueness hold under concurrency. */
  async lockTenant(tx: Tx, tenantId: string): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
  }
}
