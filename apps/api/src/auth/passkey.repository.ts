import { Injectable } from '@nestjs/common';
import type { Tx } from '@mailroom/db';
import { TenantDb } from '../infra/tenant-db.service';

/** A stored passkey (WebAuthn credential) of an admin. */
export interface PasskeyRow {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  counter: number;
  transports: string[];
  name: string;
  deviceType: string;
  backedUp: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface NewPasskey {
  userId: string;
  credentialId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  name: string;
  deviceType: string;
  backedUp: boolean;
}

type Stored = Omit<PasskeyRow, 'counter' | 'publicKey'> & { counter: bigint; publicKey: Uint8Array };

function row(r: Stored): PasskeyRow {
  return { ...r, counter: Number(r.counter), publicKey: new Uint8Array(r.publicKey) };
}

/**
 * Admins' passkeys. Like recovery codes they are read by user id before any tenant is known
 * (the table has no tenant_id), on the root handle or the caller's platform transaction.
 */
@Injectable()
export class PasskeyRepository {
  constructor(private readonly db: TenantDb) {}

  async listByUser(userId: string): Promise<PasskeyRow[]> {
    const rows = await this.db.client.adminPasskey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
    return rows.map(row);
  }

  async countByUser(userId: string): Promise<number> {
    return this.db.client.adminPasskey.count({ where: { userId } });
  }

  async findForUser(userId: string, id: string): Promise<PasskeyRow | null> {
    const r = await this.db.client.adminPasskey.findFirst({ where: { id, userId } });
    return r ? row(r) : null;
  }

  async findByCredentialId(userId: string, credentialId: string): Promise<PasskeyRow | null> {
    const r = await this.db.client.adminPasskey.findFirst({ where: { userId, credentialId } });
    return r ? row(r) : null;
  }

  /** The new row, or null when the credential id is already registered (to anyone). */
  async create(tx: Tx, p: NewPasskey): Promise<PasskeyRow | null> {
    const inserted = await tx.adminPasskey.createManyAndReturn({
      data: [{ ...p, counter: BigInt(p.counter), publicKey: new Uint8Array(p.publicKey) }],
      skipDuplicates: true,
    });
    return inserted[0] ? row(inserted[0]) : null;
  }

  async rename(userId: string, id: string, name: string): Promise<PasskeyRow | null> {
    const r = await this.db.client.adminPasskey.updateManyAndReturn({ where: { id, userId }, data: { name } });
    return r[0] ? row(r[0]) : null;
  }

  async delete(tx: Tx, userId: string, id: string): Promise<boolean> {
    const r = await tx.adminPasskey.deleteMany({ where: { id, userId } });
    return r.count === 1;
  }

  /**
   * Records a sign-in: the new counter and the time. Compare-and-set on the counter read before
   * the verification, so of two sign-ins with one assertion (or a cloned authenticator racing the
   * original) only one is accepted.
   */
  async recordUse(tx: Tx, id: string, seenCounter: number, newCounter: number, at: Date): Promise<boolean> {
    const r = await tx.adminPasskey.updateMany({
      where: { id, counter: BigInt(seenCounter) },
      data: { counter: BigInt(newCounter), lastUsedAt: at },
    });
    return r.count === 1;
  }
}
