import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TenantAccessService } from '../tenants/tenant-access.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { CredentialService } from './credential.service';
import { MfaPolicyService } from './mfa-policy.service';
import { MfaController } from './mfa.controller';
import { MfaService } from './mfa.service';
import { PasskeyLoginController, PasskeyController } from './passkey.controller';
import { PasskeyLoginService } from './passkey-login.service';
import { PasskeyService } from './passkey.service';
import { SecondFactorService } from './second-factor.service';
import { SecurityPolicyController } from './security-policy.controller';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { ThrottleService } from './throttle.service';
import { TokenService } from './token.service';
import { WebAuthnChallengeService } from './webauthn-challenge.service';

@Module({
  controllers: [
    AuthController,
    MfaController,
    PasskeyController,
    PasskeyLoginController,
    SessionsController,
    SecurityPolicyController,
  ],
  providers: [
    TokenService,
    ThrottleService,
    CredentialService,
    AuthService,
    SecondFactorService,
    MfaService,
    SessionsService,
    MfaPolicyService,
    PasskeyService,
    PasskeyLoginService,
    WebAuthnChallengeService,
    TenantAccessService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TenantAccessService, ThrottleService],
})
export class AuthModule {}
