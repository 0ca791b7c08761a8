import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TenantAccessService } from '../tenants/tenant-access.service';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { CredentialService } from './credential.service';
import { ThrottleService } from './throttle.service';
import { TokenService } from './token.service';

@Module({
  controllers: [AuthController],
  providers: [
    TokenService,
    ThrottleService,
    CredentialService,
    AuthService,
    TenantAccessService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [TenantAccessService, ThrottleService],
})
export class AuthModule {}
