import { Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import QRCode from 'qrcode';
import { Conflict, Forbidden, Unauthenticated, ValidationFailed, withPasswordHashSlot } from '@mailroom/core';
import type { AdminUser } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import { TenantDb } from '../infra/tenant-db.service';
import { AuthService, type ClientInfo, type TokenPair } from './auth.service';
import { MfaRepository } from './mfa.repository';
import { PasskeyRepository } from './passkey.repository';
import type { CallContext } from './request-context';
import { newRecoveryCodes, newTotpSecret, RECOVERY_CODE_COUNT, totpStep, totpUri } from './second-factor';
import { SecondFactorService } from './second-factor.service';

export interface MfaStatus {
  totpEnabled: boolean;
  totpEnabledAt: string | null;
  recoveryCodesRemaining: number;
  requiredByPolicy: boolean;
  passkeyCount: number;
}

export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/** Proof of presence for changes that weaken or reset the second factor. */
export interface Reauthentication {
  password?: string | undefined;
  code?: string | undefined;
}

/**
 * An admin's own second factor: TOTP enrolment (start, confirm with a first code), recovery codes
 * (shown once, regenerated), and turning it off. Every change goes to the audit log.
 */
@Injectable()
export class MfaService {
  constructor(
    private readonly db: TenantDb,
    private readonly mfa: MfaRepository,
    private readonly passkeys: PasskeyRepository,
    private readonly secondFactor: SecondFactorService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
  ) {}

  private async me(call: CallContext): Promise<AdminUser> {
    if (call.principal.kind !== 'user') throw new Forbidden('Two-factor sign-in is for people; API keys have none.');
    const user = await this.mfa.findUser(call.principal.id);
    if (!user) throw new Unauthenticated('This account no longer exists or is disabled.');
    return user;
  }

  async status(call: CallContext): Promise<MfaStatus> {
    const user = await this.me(call);
    const [remaining, required, passkeyCount] = await Promise.all([
      user.totpEnabledAt ? this.mfa.remainingRecoveryCodes(user.id) : Promise.resolve(0),
      this.mfa.policyRequires(user.id),
      this.passkeys.countByUser(user.id),
    ]);
    return {
      totpEnabled: user.totpEnabledAt !== null,
      totpEnabledAt: user.totpEnabledAt?.toISOString() ?? null,
      recoveryCodesRemaining: remaining,
      requiredByPolicy: required,
      passkeyCount,
    };
  }

  /** A new secret awaiting its first code; an earlier unconfirmed one is replaced. */
  async startTotp(call: CallContext): Promise<TotpEnrolment> {
    const user = await this.me(call);
    const secret = newTotpSecret();
    if (!(await this.mfa.setPendingTotp(user.id, this.secondFactor.sealSecret(user.id, secret)))) {
      throw new Conflict('Two-factor sign-in is already on; turn it off before enrolling a new authenticator.');
    }
    const otpauthUri = totpUri(secret, user.email);
    // SVG made here, not in the browser: the dashboard's bundle stays small and any API client gets the picture.
    const qrSvg = await QRCode.toString(otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { secret, otpauthUri, qrSvg };
  }

  /**
   * Turns TOTP on with the first code from the app, and answers the ten recovery codes (shown
   * this once). An enrolment-only caller also gets a full session: the policy is now met.
   */
  async confirmTotp(
    call: CallContext,
    code: string,
    client: ClientInfo,
  ): Promise<{ recoveryCodes: string[]; tokens: TokenPair | null }> {
    const user = await this.me(call);
    if (user.totpEnabledAt !== null) throw new Conflict('Two-factor sign-in is already on.');
    const secret = this.secondFactor.openSecret(user);
    if (secret === null) throw new Conflict('No enrolment is waiting: start one with POST /v1/auth/mfa/totp/start.');
    const step = totpStep(secret, code);
    if (step === null) {
      throw new ValidationFailed('The code does not match.', [
        { field: 'code', message: 'does not match the authenticator: check the device clock and try the next code' },
      ]);
    }
    const codes = newRecoveryCodes();
    await this.db.platform(async (tx) => {
      if (!(await this.mfa.enableTotp(tx, user.id, new Date(), step))) {
        throw new Conflict('Two-factor sign-in is already on.');
      }
      await this.mfa.replaceRecoveryCodes(
        tx,
        user.id,
        codes.map((c) => this.secondFactor.hashRecoveryCode(c)),
      );
      await this.audit.record(tx, call, {
        tenantId: user.tenantId,
        action: 'mfa.totp.enable',
        targetType: 'admin_user',
        targetId: user.id,
        after: { method: 'totp', recoveryCodes: RECOVERY_CODE_COUNT },
      });
    });
    const tokens = call.principal.mfaEnrolmentOnly ? await this.auth.startSession(user.id, client) : null;
    return { recoveryCodes: codes, tokens };
  }

  /** Turns TOTP off (with the password or a code); refused while a policy requires 2FA and no passkey is left. */
  async disableTotp(call: CallContext, proof: Reauthentication): Promise<void> {
    const user = await this.me(call);
    if (user.totpEnabledAt === null) throw new Conflict('Two-factor sign-in is not on.');
    const passkeyLeft = (await this.passkeys.countByUser(user.id)) > 0;
    if (!passkeyLeft && (await this.mfa.policyRequires(user.id))) {
      throw new Forbidden('Your organisation requires two-factor sign-in; it cannot be turned off.');
    }
    await this.reauthenticate(user, proof, call.principal.ip);
    await this.db.platform(async (tx) => {
      await this.mfa.disableTotp(tx, user.id);
      await this.audit.record(tx, call, {
        tenantId: user.tenantId,
        action: 'mfa.totp.disable',
        targetType: 'admin_user',
        targetId: user.id,
        before: { method: 'totp' },
      });
    });
  }

  /** Ten new recovery codes (with the password or a code); the old ones stop working. */
  async regenerateRecoveryCodes(call: CallContext, proof: Reauthentication): Promise<{ recoveryCodes: string[] }> {
    const user = await this.me(call);
    if (user.totpEnabledAt === null) throw new Conflict('Two-factor sign-in is not on.');
    await this.reauthenticate(user, proof, call.principal.ip);
    const codes = newRecoveryCodes();
    await this.db.platform(async (tx) => {
      await this.mfa.replaceRecoveryCodes(
        tx,
        user.id,
        codes.map((c) => this.secondFactor.hashRecoveryCode(c)),
      );
      await this.audit.record(tx, call, {
        tenantId: user.tenantId,
        action: 'mfa.recovery_codes.regenerate',
        targetType: 'admin_user',
        targetId: user.id,
        after: { recoveryCodes: RECOVERY_CODE_COUNT },
      });
    });
    return { recoveryCodes: codes };
  }

  /** A wrong password or code counts toward the lockout, as at sign-in. */
  private async reauthenticate(user: AdminUser, proof: Reauthentication, ip: string): Promise<void> {
    await this.auth.assertMayTry(user, ip);
    let ok = false;
    if (proof.password !== undefined) {
      const password = proof.password;
      ok = await withPasswordHashSlot(() => argon2.verify(user.passwordHash, password)).catch(() => false);
    } else if (proof.code !== undefined) {
      ok = (await this.secondFactor.verify(user, proof.code, ip)) !== null;
    }
    if (!ok) {
      await this.auth.recordCodeFailure(user, ip);
      const field = proof.password !== undefined ? 'password' : 'code';
      throw new ValidationFailed(`The ${field} is not right.`, [{ field, message: 'is not right' }]);
    }
  }
}
