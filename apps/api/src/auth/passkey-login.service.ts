import { Inject, Injectable } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  verifyAuthenticationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { type Config, webauthnRelyingParty, type WebAuthnRelyingParty } from '@mailroom/config';
import { Unauthenticated } from '@mailroom/core';
import type { AdminUser } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import { TenantDb } from '../infra/tenant-db.service';
import { CONFIG } from '../infra/tokens';
import { AuthRepository } from './auth.repository';
import { AuthService, type ClientInfo, type TokenPair } from './auth.service';
import { PasskeyRepository } from './passkey.repository';
import { userPrincipal } from './principal';
import { TokenService } from './token.service';
import { WebAuthnChallengeService } from './webauthn-challenge.service';

/**
 * The passkey path of the second sign-in step: options bound to the `mfa_required` challenge,
 * then the assertion, completed through AuthService.completeSecondFactor exactly as a code is
 * (same lockout, same session). Each use is audited.
 */
@Injectable()
export class PasskeyLoginService {
  private readonly rp: WebAuthnRelyingParty;

  constructor(
    private readonly db: TenantDb,
    private readonly passkeys: PasskeyRepository,
    private readonly users: AuthRepository,
    private readonly tokens: TokenService,
    private readonly challenges: WebAuthnChallengeService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    @Inject(CONFIG) config: Config,
  ) {
    this.rp = webauthnRelyingParty(config);
  }

  /**
   * Options for navigator.credentials.get(), for the user of the sign-in challenge. The WebAuthn
   * challenge is stored against that mfa challenge: a new call replaces it, one answer spends it.
   */
  async options(mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const userId = this.tokens.verifyMfaChallenge(mfaToken);
    const user = await this.users.findUserById(userId);
    const passkeys = user && !user.disabled ? await this.passkeys.listByUser(userId) : [];
    if (passkeys.length === 0) throw new Unauthenticated('This sign-in cannot be completed with a passkey.');
    const options = await generateAuthenticationOptions({
      rpID: this.rp.rpId,
      allowCredentials: passkeys.map((p) => ({ id: p.credentialId, transports: p.transports })),
      userVerification: 'preferred',
      timeout: 120_000,
    });
    const ttl = this.tokens.mfaChallengeSecondsLeft(mfaToken);
    await this.challenges.put('login', mfaToken, { userId, challenge: options.challenge }, ttl);
    return options;
  }

  /** Completes the sign-in with an assertion; a wrong or replayed one counts toward the lockout. */
  complete(mfaToken: string, credential: AuthenticationResponseJSON, client: ClientInfo): Promise<TokenPair> {
    return this.auth.completeSecondFactor(mfaToken, client, {
      available: async (user) => (await this.passkeys.countByUser(user.id)) > 0,
      verify: (user) => this.verify(user, mfaToken, credential, client.ip),
    });
  }

  private async verify(
    user: AdminUser,
    mfaToken: string,
    credential: AuthenticationResponseJSON,
    ip: string,
  ): Promise<boolean> {
    // Taken before anything else is checked: a challenge is spent by any answer, right or wrong.
    const waiting = await this.challenges.take('login', mfaToken);
    if (!waiting || waiting.userId !== user.id) return false;
    const passkey = await this.passkeys.findByCredentialId(user.id, credential.id);
    if (!passkey) return false;
    const result = await verifyAuthenticationResponse({
      response: credential,
      expectedChallenge: waiting.challenge,
      expectedOrigin: this.rp.origins,
      expectedRPID: this.rp.rpId,
      credential: {
        id: passkey.credentialId,
        publicKey: passkey.publicKey,
        counter: passkey.counter,
        transports: passkey.transports,
      },
      requireUserVerification: false,
    }).catch(() => null);
    if (!result?.verified) return false;
    return this.db.platform(async (tx) => {
      // The library refused a counter that did not grow; this refuses a race on the same one.
      const now = new Date();
      if (
        !(await this.passkeys.recordUse(tx, passkey.id, passkey.counter, result.authenticationInfo.newCounter, now))
      ) {
        return false;
      }
      await this.audit.record(
        tx,
        { principal: userPrincipal(user, ip), requestId: undefined },
        {
          tenantId: user.tenantId,
          action: 'mfa.passkey.use',
          targetType: 'admin_user',
          targetId: user.id,
          after: { passkeyId: passkey.id, name: passkey.name },
        },
      );
      return true;
    });
  }
}
