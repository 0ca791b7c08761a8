import { Injectable } from '@nestjs/common';
import type { FilterRule, JsonValue, Tx, VacationReply } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

/** The stored fields of a rule (position apart). */
export interface FilterRuleFields {
  name: string;
  enabled: boolean;
  matchMode: 'all' | 'any';
  conditions: JsonValue;
  actions: JsonValue;
}

export interface VacationSettings {
  enabled?: boolean | undefined;
  subject: string;
  body: string;
  startsAt: Date | null;
  endsAt: Date | null;
  intervalDays?: number | undefined;
}

/** A mailbox's ordered filter rules and its vacation reply. */
@Injectable()
export class FilterRepository {
  page(tx: Tx, tenantId: string, mailboxId: string, page: PageWindow): Promise<FilterRule[]> {
    return tx.filterRule.findMany({
      where: { AND: [{ tenantId, mailboxId }, page.where] },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  /** Every rule of the mailbox in evaluation order. */
  all(tx: Tx, tenantId: string, mailboxId: string): Promise<FilterRule[]> {
    return tx.filterRule.findMany({ where: { tenantId, mailboxId }, orderBy: [{ position: 'asc' }, { id: 'asc' }] });
  }

  find(tx: Tx, tenantId: string, mailboxId: string, id: string): Promise<FilterRule | null> {
    return tx.filterRule.findFirst({ where: { tenantId, mailboxId, id } });
  }

  count(tx: Tx, tenantId: string, mailboxId: string): Promise<number> {
    return tx.filterRule.count({ where: { tenantId, mailboxId } });
  }

  /** Adds the rule after the last one. */
  async append(tx: Tx, tenantId: string, mailboxId: string, rule: FilterRuleFields): Promise<FilterRule> {
    const last = await tx.filterRule.aggregate({ where: { tenantId, mailboxId }, _max: { position: true } });
    return tx.filterRule.create({
      data: { tenantId, mailboxId, position: (last._max.position ?? 0) + 1, ...rule },
    });
  }

  update(tx: Tx, tenantId: string, id: string, rule: FilterRuleFields): Promise<FilterRule> {
    return tx.filterRule.update({ where: { tenantId_id: { tenantId, id } }, data: rule });
  }

  async setPosition(tx: Tx, tenantId: string, id: string, position: number): Promise<void> {
    await tx.filterRule.update({ where: { tenantId_id: { tenantId, id } }, data: { position } });
  }

  async remove(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.filterRule.delete({ where: { tenantId_id: { tenantId, id } } });
  }

  findVacation(tx: Tx, tenantId: string, mailboxId: string): Promise<VacationReply | null> {
    return tx.vacationReply.findFirst({ where: { tenantId, mailboxId } });
  }

  saveVacation(tx: Tx, tenantId: string, mailboxId: string, settings: VacationSettings): Promise<VacationReply> {
    return tx.vacationReply.upsert({
      where: { tenantId_mailboxId: { tenantId, mailboxId } },
      create: { tenantId, mailboxId, ...settings },
      update: settings,
    });
  }

  async removeVacation(tx: Tx, tenantId: string, mailboxId: string): Promise<void> {
    await tx.vacationReply.deleteMany({ where: { tenantId, mailboxId } });
  }
}
