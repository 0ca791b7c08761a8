import { Injectable } from '@nestjs/common';
import type { AdminUser, ApiKey, RefreshToken, Reseller, Tenant } from '@mailroom/db';
import { TenantDb } from '../infra/tenant-db.service';

export type UserWithReseller = AdminUser & { reseller: Reseller | null };
export type ApiKeyWithOwners = ApiKey & { reseller: Reseller | null; tenant: Tenant | null };
export type RefreshTokenWithUser = RefreshToken & { user: AdminUser };

export interface NewRefreshToken {
  id?: string;
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
  createdIp: string;
}

/**
 * Credentials: admin users, refresh tokens and API keys, looked up before any tenant is known
 * (so single statements on the root handle, outside a tenant scope).
 */
@Injectable()
export class AuthRepository {
  constructor(private readonly db: TenantDb) {}

  findUserByEmail(email: string): Promise<AdminUser | null> {
    return this.db.client.adminUser.findUnique({ where: { email } });
  }

  findUserWithReseller(id: string): Promise<UserWithReseller | null> {
    return this.db.client.adminUser.findUnique({ where: { id }, include: { reseller: true } });
  }

  /** A good login: clears the failure count and, with `passwordHash`, stores a rehashed password. */
  async recordLogin(userId: string, at: Date, passwordHash?: string): Promise<void> {
    await this.db.client.adminUser.update({
      where: { id: userId },
      data: { failedLoginCount: 0, lockedUntil: null, lastLoginAt: at, ...(passwordHash ? { passwordHash } : {}) },
    });
  }

  /** Counts one more failed login; returns the new count. */
  async countFailedLogin(userId: string): Promise<number> {
    const user = await this.db.client.adminUser.update({
      where: { id: userId },
      data: { failedLoginCount: { increment: 1 } },
    });
    return user.failedLoginCount;
  }

  async lockUser(userId: string, until: Date): Promise<void> {
    await this.db.client.adminUser.update({ where: { id: userId }, data: { lockedUntil: until, failedLoginCount: 0 } });
  }

  findRefreshToken(tokenHash: string): Promise<RefreshTokenWithUser | null> {
    return this.db.client.refreshToken.findUnique({ where: { tokenHash }, include: { user: true } });
  }

  /** Compare-and-set: true when this call revoked the token (it was not revoked before). */
  async claimRefreshToken(id: string, replacedById: string, at: Date): Promise<boolean> {
    const claimed = await this.db.client.refreshToken.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: at, replacedById },
    });
    return claimed.count === 1;
  }

  async createRefreshToken(token: NewRefreshToken): Promise<void> {
    await this.db.client.refreshToken.create({ data: token });
  }

  async revokeRefreshFamily(familyId: string, at: Date): Promise<void> {
    await this.db.client.refreshToken.updateMany({ where: { familyId, revokedAt: null }, data: { revokedAt: at } });
  }

  findApiKeyByPrefix(prefix: string): Promise<ApiKeyWithOwners | null> {
    return this.db.client.apiKey.findUnique({ where: { prefix }, include: { reseller: true, tenant: true } });
  }

  async recordApiKeyUse(id: string, at: Date, ip: string): Promise<void> {
    await this.db.client.apiKey.update({ where: { id }, data: { lastUsedAt: at, lastUsedIp: ip } });
  }

  findTenant(id: string): Promise<Tenant | null> {
    return this.db.client.tenant.findUnique({ where: { id } });
  }
}
