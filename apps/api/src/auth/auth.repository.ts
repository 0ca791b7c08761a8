import { Injectable } from '@nestjs/common';
import {
  defineStatement,
  type AdminUser,
  type ApiKey,
  type RefreshToken,
  type Reseller,
  type Tenant,
} from '@mailroom/db';
import { TenantDb } from '../infra/tenant-db.service';
import { CredentialCache } from './credential-cache';

export type RefreshTokenWithUser = RefreshToken & { user: AdminUser };

/** What a request's guard needs of an access token's user. */
export type RequestUser = Pick<AdminUser, 'id' | 'email' | 'role' | 'resellerId' | 'tenantId' | 'disabled'> & {
  resellerStatus: Reseller['status'] | null;
  /** False when the access token's session was ended (signed out, ended from another session). */
  sessionLive: boolean;
};

/** What a request's guard needs of an API key, with its owners' status. */
export type RequestApiKey = Pick<
  ApiKey,
  | 'id'
  | 'name'
  | 'keyHash'
  | 'resellerId'
  | 'tenantId'
  | 'scopes'
  | 'domains'
  | 'ipAllowlist'
  | 'expiresAt'
  | 'lastUsedAt'
  | 'lastUsedIp'
  | 'revokedAt'
> & { resellerStatus: Reseller['status'] | null; tenantStatus: Tenant['status'] | null };

/**
 * A credential's row and, in the same statement, the tenant a request's path names (null when
 * it does not exist or no tenant was asked for): one round trip for the guard, not three.
 */
export interface ForRequest<C> {
  credential: C;
  tenant: Tenant | null;
}

// The tenants row as Prisma's Tenant, columns prefixed t_ so they sit beside the credential's.
const TENANT_COLUMNS = `t.id AS t_id, t.reseller_id AS t_reseller_id, t.name AS t_name,
  t.status::text AS t_status, t.status_reason AS t_status_reason, t.max_domains AS t_max_domains,
  t.max_mailboxes AS t_max_mailboxes, t.storage_quota_bytes AS t_storage_quota_bytes,
  t.smtputf8_enabled AS t_smtputf8_enabled, t.spam_junk_threshold AS t_spam_junk_threshold,
  t.spam_reject_threshold AS t_spam_reject_threshold, t.legal_hold AS t_legal_hold,
  t.legal_hold_reason AS t_legal_hold_reason, t.legal_hold_set_by AS t_legal_hold_set_by,
  t.legal_hold_set_at AS t_legal_hold_set_at, t.require_mfa AS t_require_mfa, t.deleted_at AS t_deleted_at, t.purge_after AS t_purge_after,
  t.created_at AS t_created_at, t.updated_at AS t_updated_at`;

/**
 * An access token's user ($1) with its reseller's status, whether its session ($3, a refresh
 * token family; null: none) is live, and the tenant $2 names. A family is ended once one of its
 * tokens is revoked without a successor (logout, reuse, "end session"); rotation revokes with a
 * successor. One indexed probe on family_id.
 */
const USER_FOR_REQUEST = defineStatement<RequestUser & TenantColumns, [string, string | null, string | null]>(
  'api_user_for_request',
  `SELECT u.id, u.email, u.role::text AS role, u.reseller_id AS "resellerId", u.tenant_id AS "tenantId",
          u.disabled, r.status::text AS "resellerStatus",
          ($3::uuid IS NULL OR NOT EXISTS (
            SELECT 1 FROM refresh_tokens s
             WHERE s.family_id = $3::uuid AND s.revoked_at IS NOT NULL AND s.replaced_by_id IS NULL
          )) AS "sessionLive",
          ${TENANT_COLUMNS}
     FROM admin_users u
     LEFT JOIN resellers r ON r.id = u.reseller_id
     LEFT JOIN tenants t ON t.id = $2::uuid
    WHERE u.id = $1::uuid`,
);

/** An API key by its prefix ($1) with its owners' status, and the tenant $2 names. */
const API_KEY_FOR_REQUEST = defineStatement<RequestApiKey & TenantColumns, [string, string | null]>(
  'api_key_for_request',
  `SELECT k.id, k.name, k.key_hash AS "keyHash", k.reseller_id AS "resellerId", k.tenant_id AS "tenantId",
          COALESCE(k.scopes, '{}') AS scopes, COALESCE(k.domains, '{}') AS domains,
          COALESCE(k.ip_allowlist, '{}') AS "ipAllowlist", k.expires_at AS "expiresAt",
          k.last_used_at AS "lastUsedAt", k.last_used_ip AS "lastUsedIp", k.revoked_at AS "revokedAt",
          r.status::text AS "resellerStatus", kt.status::text AS "tenantStatus", ${TENANT_COLUMNS}
     FROM api_keys k
     LEFT JOIN resellers r ON r.id = k.reseller_id
     LEFT JOIN tenants kt ON kt.id = k.tenant_id
     LEFT JOIN tenants t ON t.id = $2::uuid
    WHERE k.prefix = $1`,
);

interface TenantColumns {
  t_id: string | null;
  t_reseller_id: string | null;
  t_name: string;
  t_status: Tenant['status'];
  t_status_reason: string | null;
  t_max_domains: number;
  t_max_mailboxes: number;
  t_storage_quota_bytes: bigint;
  t_smtputf8_enabled: boolean;
  t_spam_junk_threshold: number | null;
  t_spam_reject_threshold: number | null;
  t_legal_hold: boolean;
  t_legal_hold_reason: string | null;
  t_legal_hold_set_by: string | null;
  t_legal_hold_set_at: Date | null;
  t_require_mfa: boolean;
  t_deleted_at: Date | null;
  t_purge_after: Date | null;
  t_created_at: Date;
  t_updated_at: Date;
}

function tenantOf(r: TenantColumns): Tenant | null {
  if (r.t_id === null) return null;
  return {
    id: r.t_id,
    resellerId: r.t_reseller_id,
    name: r.t_name,
    status: r.t_status,
    statusReason: r.t_status_reason,
    maxDomains: r.t_max_domains,
    maxMailboxes: r.t_max_mailboxes,
    storageQuotaBytes: BigInt(r.t_storage_quota_bytes),
    smtputf8Enabled: r.t_smtputf8_enabled,
    spamJunkThreshold: r.t_spam_junk_threshold,
    spamRejectThreshold: r.t_spam_reject_threshold,
    legalHold: r.t_legal_hold,
    legalHoldReason: r.t_legal_hold_reason,
    legalHoldSetBy: r.t_legal_hold_set_by,
    legalHoldSetAt: r.t_legal_hold_set_at,
    requireMfa: r.t_require_mfa,
    deletedAt: r.t_deleted_at,
    purgeAfter: r.t_purge_after,
    createdAt: r.t_created_at,
    updatedAt: r.t_updated_at,
  };
}

export interface NewRefreshToken {
  id?: string;
  userId: string;
  familyId: string;
  tokenHash: string;
  expiresAt: Date;
  createdIp: string;
  userAgent: string | null;
}

/**
 * Credentials: admin users, refresh tokens and API keys, looked up before any tenant is known
 * (so single statements on the root handle, outside a tenant scope).
 */
@Injectable()
export class AuthRepository {
  constructor(
    private readonly db: TenantDb,
    private readonly cache: CredentialCache,
  ) {}

  findUserByEmail(email: string): Promise<AdminUser | null> {
    return this.db.client.adminUser.findUnique({ where: { email } });
  }

  findUserById(id: string): Promise<AdminUser | null> {
    return this.db.client.adminUser.findUnique({ where: { id } });
  }

  /**
   * An access token's user with its reseller's status, whether the token's session (`sessionId`,
   * a refresh token family) is still live, and the tenant `tenantId` (if any) names.
   */
  async findUserForRequest(
    id: string,
    tenantId: string | null,
    sessionId: string | null,
    read = false,
  ): Promise<ForRequest<RequestUser> | null> {
    return this.cache.get(
      `u ${id} ${tenantId} ${sessionId}`.toLowerCase(),
      read,
      () => this.loadUserForRequest(id, tenantId, sessionId),
      // A tenant id that names no tenant is not kept: random ids must not push out real entries.
      (found) => tenantId === null || found.tenant !== null,
    );
  }

  private async loadUserForRequest(
    id: string,
    tenantId: string | null,
    sessionId: string | null,
  ): Promise<ForRequest<RequestUser> | null> {
    const rows = await USER_FOR_REQUEST.run(this.db.client, [id, tenantId, sessionId]);
    const row = rows[0];
    if (!row) return null;
    const { id: userId, email, role, resellerId, disabled, resellerStatus, sessionLive } = row;
    return {
      credential: {
        id: userId,
        email,
        role,
        resellerId,
        tenantId: row.tenantId,
        disabled,
        resellerStatus,
        sessionLive,
      },
      tenant: tenantOf(row),
    };
  }

  /**
   * An API key with its owners' status, and the tenant `tenantId` (if any) names. With `read`
   * (a GET or HEAD) from the CredentialCache when it holds it; its lastUsedAt/lastUsedIp are
   * then as this process last recorded them (recordApiKeyUse does not empty the cache).
   */
  async findApiKeyForRequest(
    prefix: string,
    tenantId: string | null,
    read = false,
  ): Promise<ForRequest<RequestApiKey> | null> {
    return this.cache.get(
      `k ${prefix} ${tenantId?.toLowerCase() ?? null}`,
      read,
      () => this.loadApiKeyForRequest(prefix, tenantId),
      (found) => tenantId === null || found.tenant !== null,
    );
  }

  private async loadApiKeyForRequest(
    prefix: string,
    tenantId: string | null,
  ): Promise<ForRequest<RequestApiKey> | null> {
    const rows = await API_KEY_FOR_REQUEST.run(this.db.client, [prefix, tenantId]);
    const row = rows[0];
    if (!row) return null;
    const credential: RequestApiKey = {
      id: row.id,
      name: row.name,
      keyHash: row.keyHash,
      resellerId: row.resellerId,
      tenantId: row.tenantId,
      scopes: row.scopes,
      domains: row.domains,
      ipAllowlist: row.ipAllowlist,
      expiresAt: row.expiresAt,
      lastUsedAt: row.lastUsedAt,
      lastUsedIp: row.lastUsedIp,
      revokedAt: row.revokedAt,
      resellerStatus: row.resellerStatus,
      tenantStatus: row.tenantStatus,
    };
    return { credential, tenant: tenantOf(row) };
  }

  /** A good login: clears the failure count and, with `passwordHash`, stores a rehashed password. */
  async recordLogin(userId: string, at: Date, passwordHash?: string): Promise<void> {
    await this.db.client.adminUser.update({
      where: { id: userId },
      data: { failedLoginCount: 0, lockedUntil: null, lastLoginAt: at, ...(passwordHash ? { passwordHash } : {}) },
    });
  }

  /** Stores a password rehashed at today's parameters (a login that still awaits its second factor). */
  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.db.client.adminUser.update({ where: { id: userId }, data: { passwordHash } });
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

  async recordApiKeyUse(id: string, at: Date, ip: string): Promise<void> {
    await this.db.client.apiKey.update({ where: { id }, data: { lastUsedAt: at, lastUsedIp: ip } });
  }
}
