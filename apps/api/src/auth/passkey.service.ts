import { Inject, Injectable } from '@nestjs/common';
import {
  generateRegistrationOptions,
  verifyRegistrationResponse,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { type Config, webauthnRelyingParty, type WebAuthnRelyingParty } from '@mailroom/config';
import { Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed } from '@mailroom/core';
import type { AdminUser } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import { TenantDb } from '../infra/tenant-db.service';
import { CONFIG } from '../infra/tokens';
import { AuthService, type ClientInfo, type TokenPair } from './auth.service';
import { MfaRepository } from './mfa.repository';
import { PasskeyRepository, type PasskeyRow } from './passkey.repository';
import type { CallContext } from './request-context';
import { WEBAUTHN_CHALLENGE_TTL_SECONDS, WebAuthnChallengeService } from './webauthn-challenge.service';

/** A passkey as the API shows it: never its key or counter. */
export interface PasskeyView {
  id: string;
  name: string;
  transports: string[];
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

export function passkeyView(p: PasskeyRow): PasskeyView {
  return {
    id: p.id,
    name: p.name,
    transports: p.transports,
    deviceType: p.deviceType === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backedUp: p.backedUp,
    createdAt: p.createdAt.toISOString(),
    lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
  };
}

const NOT_VERIFIED = 'The passkey could not be verified.';

/**
 * An admin's own passkeys (WebAuthn credentials) as a second factor: registration (options, then
 * the authenticator's attestation), list, rename and removal. Attestation is not asked for
 * ('none'): a second factor needs proof of possession, not the authenticator's make.
 */
@Injectable()
export class PasskeyService {
  private readonly rp: WebAuthnRelyingParty;

  constructor(
    private readonly db: TenantDb,
    private readonly passkeys: PasskeyRepository,
    private readonly mfa: MfaRepository,
    private readonly challenges: WebAuthnChallengeService,
    private readonly auth: AuthService,
    private readonly audit: AuditService,
    @Inject(CONFIG) config: Config,
  ) {
    this.rp = webauthnRelyingParty(config);
  }

  private async me(call: CallContext): Promise<AdminUser> {
    if (call.principal.kind !== 'user') throw new Forbidden('Passkeys are for people; API keys have none.');
    const user = await this.mfa.findUser(call.principal.id);
    if (!user) throw new Unauthenticated('This account no longer exists or is disabled.');
    return user;
  }

  async list(call: CallContext): Promise<{ items: PasskeyView[] }> {
    const user = await this.me(call);
    return { items: (await this.passkeys.listByUser(user.id)).map(passkeyView) };
  }

  /** Options for navigator.credentials.create(); a new call replaces the waiting challenge. */
  async registrationOptions(call: CallContext): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const user = await this.me(call);
    const existing = await this.passkeys.listByUser(user.id);
    const options = await generateRegistrationOptions({
      rpName: this.rp.rpName,
      rpID: this.rp.rpId,
      userName: user.email,
      userDisplayName: user.displayName ?? user.email,
      // The user handle is the account id, not the email: it is stored on the authenticator.
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      timeout: 120_000,
    });
    await this.challenges.put(
      'register',
      user.id,
      { userId: user.id, challenge: options.challenge },
      WEBAUTHN_CHALLENGE_TTL_SECONDS,
    );
    return options;
  }

  /**
   * Verifies the authenticator's answer to the waiting challenge and stores the passkey. An
   * enrolment-only caller also gets a full session: the policy is now met.
   */
  async register(
    call: CallContext,
    name: string,
    credential: RegistrationResponseJSON,
    client: ClientInfo,
  ): Promise<{ passkey: PasskeyView; tokens: TokenPair | null }> {
    const user = await this.me(call);
    const waiting = await this.challenges.take('register', user.id);
    if (!waiting) {
      throw new Conflict(
        'No passkey registration is waiting (it expired or was used): start again with POST /v1/auth/mfa/passkeys/registration/options.',
      );
    }
    const verified = await verifyRegistrationResponse({
      response: credential,
      expectedChallenge: waiting.challenge,
      expectedOrigin: this.rp.origins,
      expectedRPID: this.rp.rpId,
      requireUserVerification: false,
    }).catch((err: unknown) => {
      throw new ValidationFailed(NOT_VERIFIED, [{ field: 'credential', message: (err as Error).message }]);
    });
    if (!verified.verified) {
      throw new ValidationFailed(NOT_VERIFIED, [{ field: 'credential', message: 'the attestation is not valid' }]);
    }
    const info = verified.registrationInfo;
    const stored = await this.db.platform(async (tx) => {
      const row = await this.passkeys.create(tx, {
        userId: user.id,
        credentialId: info.credential.id,
        publicKey: info.credential.publicKey,
        counter: info.credential.counter,
        transports: info.credential.transports ?? credential.response.transports ?? [],
        name,
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
      });
      if (!row) throw new Conflict('This passkey is already registered.');
      await this.audit.record(tx, call, {
        tenantId: user.tenantId,
        action: 'mfa.passkey.add',
        targetType: 'admin_user',
        targetId: user.id,
        after: { passkeyId: row.id, name, deviceType: row.deviceType },
      });
      return row;
    });
    const tokens = call.principal.mfaEnrolmentOnly ? await this.auth.startSession(user.id, client) : null;
    return { passkey: passkeyView(stored), tokens };
  }

  async rename(call: CallContext, passkeyId: string, name: string): Promise<PasskeyView> {
    const user = await this.me(call);
    const row = isUuid(passkeyId) ? await this.passkeys.rename(user.id, passkeyId, name) : null;
    if (!row) throw new NotFound(`Passkey ${passkeyId} not found.`);
    return passkeyView(row);
  }

  /** Removes a passkey; refused when it is the last second factor and a policy requires one. */
  async remove(call: CallContext, passkeyId: string): Promise<void> {
    const user = await this.me(call);
    const row = isUuid(passkeyId) ? await this.passkeys.findForUser(user.id, passkeyId) : null;
    if (!row) throw new NotFound(`Passkey ${passkeyId} not found.`);
    const lastFactor = user.totpEnabledAt === null && (await this.passkeys.countByUser(user.id)) <= 1;
    if (lastFactor && (await this.mfa.policyRequires(user.id))) {
      throw new Forbidden(
        'Your organisation requires two-factor sign-in; add another passkey or an authenticator app before removing the last one.',
      );
    }
    await this.db.platform(async (tx) => {
      if (!(await this.passkeys.delete(tx, user.id, row.id))) throw new NotFound(`Passkey ${passkeyId} not found.`);
      await this.audit.record(tx, call, {
        tenantId: user.tenantId,
        action: 'mfa.passkey.remove',
        targetType: 'admin_user',
        targetId: user.id,
        before: { passkeyId: row.id, name: row.name },
      });
    });
  }
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
