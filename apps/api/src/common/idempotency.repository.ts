import { Injectable } from '@nestjs/common';
import { isUniqueViolation, type IdempotencyKey } from '@mailroom/db';
import { TenantDb } from '../infra/tenant-db.service';

export interface NewIdempotencyKey {
  scope: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  expiresAt: Date;
}

/** Idempotency keys: one row per (credential, key), claimed by the unique index. */
@Injectable()
export class IdempotencyRepository {
  constructor(private readonly db: TenantDb) {}

  /** The new row's id, or null when another request holds (scope, key) already. */
  async claim(row: NewIdempotencyKey): Promise<string | null> {
    try {
      return (await this.db.client.idempotencyKey.create({ data: row })).id;
    } catch (err) {
      if (isUniqueViolation(err)) return null;
      throw err;
    }
  }

  find(scope: string, key: string): Promise<IdempotencyKey | null> {
    return this.db.client.idempotencyKey.findUnique({ where: { scope_key: { scope, key } } });
  }

  async saveResponse(id: string, status: number, sealedBody: string): Promise<void> {
    await this.db.client.idempotencyKey.update({
      where: { id },
      data: { responseStatus: status, responseBody: sealedBody },
    });
  }

  async remove(id: string): Promise<void> {
    await this.db.client.idempotencyKey.deleteMany({ where: { id } });
  }
}
