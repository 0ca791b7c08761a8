import { Injectable } from '@nestjs/common';
import type { AdminUser, Tx } from '@mailroom/db';
import { TenantDb } from '../infra/tenant-db.service';

/** One login of an admin: a refresh token family, from its first token to its latest. */
export interface SessionRow {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/**
 * The second factor of admins (TOTP secret, recovery codes), the reseller and tenant policy that
 * requires one, and the sessions (refresh token families) an admin can list and end. Read by user
 * id before any tenant is known, so on the root handle or the caller's platform transaction.
 */
@Injectable()
export class MfaRepository {
  constructor(private readonly db: TenantDb) {}

  findUser(userId: string): Promise<AdminUser | null> {
    return this.db.client.adminUser.findUnique({ where: { id: userId } });
  }

  /** True when the admin's reseller, tenant or tenant's reseller requires two-factor sign-in. */
  async policyRequires(userId: string): Promise<boolean> {
    const rows = await this.db.client.$queryRaw<{ required: boolean }[]>`
      SELECT (COALESCE(r.require_mfa, false) OR COALESCE(t.require_mfa, false) OR COALESCE(tr.require_mfa, false))
             AS required
        FROM admin_users u
        LEFT JOIN resellers r ON r.id = u.reseller_id
        LEFT JOIN tenants t ON t.id = u.tenant_id
        LEFT JOIN resellers tr ON tr.id = t.reseller_id
       WHERE u.id = ${userId}::uuid`;
    return rows[0]?.required ?? false;
  }

  /** Stores a new secret awaiting its first code; refused (false) while TOTP is enabled. */
  async setPendingTotp(userId: string, sealedSecret: string): Promise<boolean> {
    const r = await this.db.client.adminUser.updateMany({
      where: { id: userId, totpEnabledAt: null },
      data: { totpSecretEncrypted: sealedSecret, totpLastStep: null },
    });
    return r.count === 1;
  }

  /** Turns the pending secret on, its first code's step spent; false when none was pending. */
  async enableTotp(tx: Tx, userId: string, at: Date, step: number): Promise<boolean> {
    const r = await tx.adminUser.updateMany({
      where: { id: userId, totpEnabledAt: null, totpSecretEncrypted: { not: null } },
      data: { totpEnabledAt: at, totpLastStep: BigInt(step) },
    });
    return r.count === 1;
  }

  /** Removes the secret and every recovery code. */
  async disableTotp(tx: Tx, userId: string): Promise<void> {
    await tx.adminUser.update({
      where: { id: userId },
      data: { totpSecretEncrypted: null, totpEnabledAt: null, totpLastStep: null },
    });
    await tx.mfaRecoveryCode.deleteMany({ where: { userId } });
  }

  /**
   * Compare-and-set on the last accepted time step: true when `step` is newer, so of two
   * requests with one code (or a replayed code) only the first is accepted.
   */
  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    const n = await this.db.client.$executeRaw`
      UPDATE admin_users SET totp_last_step = ${BigInt(step)}
       WHERE id = ${userId}::uuid AND totp_enabled_at IS NOT NULL
         AND (totp_last_step IS NULL OR totp_last_step < ${BigInt(step)})`;
    return n === 1;
  }

  async replaceRecoveryCodes(tx: Tx, userId: string, hashes: string[]): Promise<void> {
    await tx.mfaRecoveryCode.deleteMany({ where: { userId } });
    await tx.mfaRecoveryCode.createMany({ data: hashes.map((codeHash) => ({ userId, codeHash })) });
  }

  /** Spends a recovery code; false when it is unknown or already used (compare-and-set). */
  async useRecoveryCode(tx: Tx, userId: string, codeHash: string, at: Date): Promise<boolean> {
    const r = await tx.mfaRecoveryCode.updateMany({
      where: { userId, codeHash, usedAt: null },
      data: { usedAt: at },
    });
    return r.count === 1;
  }

  remainingRecoveryCodes(userId: string): Promise<number> {
    return this.db.client.mfaRecoveryCode.count({ where: { userId, usedAt: null } });
  }

  async tenantPolicy(tenantId: string): Promise<{ requireMfa: boolean; resellerRequiresMfa: boolean } | null> {
    const t = await this.db.client.tenant.findUnique({
      where: { id: tenantId },
      select: { requireMfa: true, reseller: { select: { requireMfa: true } } },
    });
    return t ? { requireMfa: t.requireMfa, resellerRequiresMfa: t.reseller?.requireMfa ?? false } : null;
  }

  async setTenantPolicy(tx: Tx, tenantId: string, requireMfa: boolean): Promise<void> {
    await tx.tenant.update({ where: { id: tenantId }, data: { requireMfa } });
  }

  async resellerPolicy(resellerId: string): Promise<{ requireMfa: boolean } | null> {
    return this.db.client.reseller.findUnique({ where: { id: resellerId }, select: { requireMfa: true } });
  }

  async setResellerPolicy(tx: Tx, resellerId: string, requireMfa: boolean): Promise<void> {
    await tx.reseller.update({ where: { id: resellerId }, data: { requireMfa } });
  }

  /**
   * The user's live sessions, most recently used first: families with an unexpired token still
   * unspent and never ended (a token revoked without a successor ends its family).
   */
  listSessions(userId: string): Promise<SessionRow[]> {
    return this.db.client.$queryRaw<SessionRow[]>`
      SELECT family_id AS id, min(created_at) AS "createdAt", max(created_at) AS "lastUsedAt",
             max(expires_at) AS "expiresAt",
             (array_agg(created_ip ORDER BY created_at DESC))[1] AS ip,
             (array_agg(user_agent ORDER BY created_at DESC))[1] AS "userAgent"
        FROM refresh_tokens
       WHERE user_id = ${userId}::uuid
       GROUP BY family_id
      HAVING bool_or(revoked_at IS NULL AND expires_at > now())
         AND NOT bool_or(revoked_at IS NOT NULL AND replaced_by_id IS NULL)
       ORDER BY max(created_at) DESC`;
  }

  /** Ends the user's sessions `familyIds`; returns how many had a token still live. */
  async endSessions(tx: Tx, userId: string, familyIds: string[], at: Date): Promise<number> {
    if (familyIds.length === 0) return 0;
    const r = await tx.refreshToken.updateMany({
      where: { userId, familyId: { in: familyIds }, revokedAt: null },
      data: { revokedAt: at },
    });
    return r.count;
  }
}
