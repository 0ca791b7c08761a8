import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { open, seal } from '@mailroom/core';
import type { AdminUser } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import { TenantDb } from '../infra/tenant-db.service';
import { CONFIG } from '../infra/tokens';
import { MfaRepository } from './mfa.repository';
import { userPrincipal } from './principal';
import { looksLikeTotpCode, RecoveryCodeHasher, totpStep } from './second-factor';

export type SecondFactorMethod = 'totp' | 'recovery_code';

/** The sealing context binds a secret to its user: copied to another row it does not open. */
const TOTP_CONTEXT = (userId: string) => `totp:${userId}`;

/**
 * Checks a second factor: a TOTP code (each time step good once) or a recovery code (each good
 * once, its use audited). Holds the TOTP secret's encryption, the one the project uses for DKIM
 * keys and webhook secrets (AES-256-GCM under MASTER_KEY, libs/core secret-box).
 */
@Injectable()
export class SecondFactorService {
  private readonly hasher: RecoveryCodeHasher;

  constructor(
    private readonly db: TenantDb,
    private readonly mfa: MfaRepository,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.hasher = new RecoveryCodeHasher(config.MASTER_KEY);
  }

  sealSecret(userId: string, secret: string): string {
    return seal(this.config.MASTER_KEY, secret, TOTP_CONTEXT(userId));
  }

  openSecret(user: Pick<AdminUser, 'id' | 'totpSecretEncrypted'>): string | null {
    return user.totpSecretEncrypted === null
      ? null
      : open(this.config.MASTER_KEY, user.totpSecretEncrypted, TOTP_CONTEXT(user.id));
  }

  hashRecoveryCode(code: string): string {
    return this.hasher.hash(code);
  }

  /** The method that accepted `code` for this user with TOTP enabled, or null (wrong, spent or replayed). */
  async verify(user: AdminUser, code: string, ip: string): Promise<SecondFactorMethod | null> {
    if (user.totpEnabledAt === null) return null;
    if (looksLikeTotpCode(code)) {
      const secret = this.openSecret(user);
      const step = secret === null ? null : totpStep(secret, code);
      return step !== null && (await this.mfa.claimTotpStep(user.id, step)) ? 'totp' : null;
    }
    const hash = this.hasher.hash(code);
    const used = await this.db.platform(async (tx) => {
      if (!(await this.mfa.useRecoveryCode(tx, user.id, hash, new Date()))) return false;
      await this.audit.record(
        tx,
        { principal: userPrincipal(user, ip), requestId: undefined },
        { tenantId: user.tenantId, action: 'mfa.recovery_code.use', targetType: 'admin_user', targetId: user.id },
      );
      return true;
    });
    return used ? 'recovery_code' : null;
  }
}
