import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { clientInfo } from './auth.controller';
import { Authenticated } from './authenticated.decorator';
import {
  ConfirmTotpDto,
  MfaStatusResponse,
  ReauthenticateDto,
  RecoveryCodesResponse,
  TotpConfirmedResponse,
  TotpEnrolmentResponse,
} from './mfa.dto';
import { MfaService } from './mfa.service';
import { Caller, type AuthedRequest, type CallContext } from './request-context';

@ApiTags('auth')
@Controller('v1/auth/mfa')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @ApiOperation({ summary: 'My two-factor sign-in: on or off, recovery codes left, required or not' })
  @Get()
  @Authenticated({ mfaEnrolment: true })
  @ApiOkResponse({ type: MfaStatusResponse })
  status(@Caller() call: CallContext) {
    return this.mfa.status(call);
  }

  @ApiOperation({ summary: 'Start enrolling an authenticator app (TOTP)' })
  @Post('totp/start')
  @HttpCode(200)
  @Authenticated({ mfaEnrolment: true })
  @ApiOkResponse({
    type: TotpEnrolmentResponse,
    description: 'A new secret, waiting for its first code; starting again replaces an unconfirmed one',
  })
  @ApiConflictResponse({ description: 'TOTP is already on' })
  start(@Caller() call: CallContext) {
    return this.mfa.startTotp(call);
  }

  @ApiOperation({ summary: 'Turn TOTP on with the first code from the app' })
  @Post('totp/confirm')
  @HttpCode(200)
  @Authenticated({ mfaEnrolment: true })
  @ApiOkResponse({ type: TotpConfirmedResponse, description: 'On; the ten recovery codes are shown this once' })
  @ApiConflictResponse({ description: 'TOTP is already on, or no enrolment was started' })
  confirm(@Caller() call: CallContext, @Body() dto: ConfirmTotpDto, @Req() req: AuthedRequest) {
    return this.mfa.confirmTotp(call, dto.code, clientInfo(req));
  }

  @ApiOperation({ summary: 'Turn TOTP off (with the password or a code)' })
  @Post('totp/disable')
  @HttpCode(204)
  @Authenticated()
  @ApiNoContentResponse({ description: 'Off; the secret and every recovery code are deleted' })
  @ApiConflictResponse({ description: 'TOTP is not on' })
  async disable(@Caller() call: CallContext, @Body() dto: ReauthenticateDto): Promise<void> {
    await this.mfa.disableTotp(call, dto);
  }

  @ApiOperation({ summary: 'Replace my recovery codes (with the password or a code)' })
  @Post('recovery-codes')
  @HttpCode(200)
  @Authenticated()
  @ApiOkResponse({ type: RecoveryCodesResponse, description: 'Ten new codes; the old ones no longer work' })
  @ApiConflictResponse({ description: 'TOTP is not on' })
  regenerate(@Caller() call: CallContext, @Body() dto: ReauthenticateDto) {
    return this.mfa.regenerateRecoveryCodes(call, dto);
  }
}
