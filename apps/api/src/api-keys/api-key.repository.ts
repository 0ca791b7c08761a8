import { Injectable } from '@nestjs/common';
import type { ApiKey, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

/** Whose keys: one tenant's, or a reseller's own (reseller-level) keys. */
export type KeyOwner = { tenantId: string } | { resellerId: string };

export interface NewApiKey {
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  domains: string[];
  ipAllowlist: string[];
  expiresAt: Date | null;
  createdBy: string;
}

const ownerWhere = (owner: KeyOwner) =>
  'tenantId' in owner ? { tenantId: owner.tenantId } : { resellerId: owner.resellerId, tenantId: null };

/** API keys of a tenant or of a reseller; the key itself is stored only as a hash. */
@Injectable()
export class ApiKeyRepository {
  list(tx: Tx, owner: KeyOwner, page: PageWindow): Promise<ApiKey[]> {
    return tx.apiKey.findMany({
      where: { AND: [ownerWhere(owner), page.where] },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  find(tx: Tx, owner: KeyOwner, id: string): Promise<ApiKey | null> {
    return tx.apiKey.findFirst({ where: { id, ...ownerWhere(owner) } });
  }

  create(tx: Tx, owner: KeyOwner, key: NewApiKey): Promise<ApiKey> {
    return tx.apiKey.create({ data: { ...ownerWhere(owner), ...key } });
  }

  revoke(tx: Tx, owner: KeyOwner, id: string, at: Date): Promise<ApiKey> {
    return tx.apiKey.update({ where: { id, ...ownerWhere(owner) }, data: { revokedAt: at } });
  }
}
