import { Injectable } from '@nestjs/common';
import type { Reseller, ResellerStatus, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

export interface ResellerFields {
  name?: string | undefined;
  status?: ResellerStatus | undefined;
  maxTenants?: number | null | undefined;
}

/** Resellers (platform level). */
@Injectable()
export class ResellerRepository {
  /** Every reseller, or only `onlyId`. */
  list(tx: Tx, onlyId: string | null, page: PageWindow): Promise<Reseller[]> {
    return tx.reseller.findMany({
      where: { AND: [onlyId === null ? {} : { id: onlyId }, page.where] },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  find(tx: Tx, id: string): Promise<Reseller | null> {
    return tx.reseller.findUnique({ where: { id } });
  }

  create(tx: Tx, fields: { name: string; maxTenants: number | null }): Promise<Reseller> {
    return tx.reseller.create({ data: fields });
  }

  update(tx: Tx, id: string, fields: ResellerFields): Promise<Reseller> {
    return tx.reseller.update({ where: { id }, data: fields });
  }
}
