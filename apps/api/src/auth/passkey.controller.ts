import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { clientInfo } from './auth.controller';
import { TokenPairResponse } from './auth.dto';
import { Authenticated, Public } from './authenticated.decorator';
import { KeepsCredentialCache } from './credential-cache';
import {
  CompletePasskeyLoginDto,
  PasskeyList,
  PasskeyLoginOptionsDto,
  PasskeyLoginOptionsResponse,
  PasskeyRegisteredResponse,
  PasskeyRegistrationOptionsResponse,
  PasskeyResponse,
  RegisterPasskeyDto,
  RenamePasskeyDto,
} from './passkey.dto';
import { PasskeyLoginService } from './passkey-login.service';
import { PasskeyService } from './passkey.service';
import { Caller, type AuthedRequest, type CallContext } from './request-context';

// The DTOs check the shape of WebAuthn's JSON; the library's types say the same with DOM enums
// (transports, extension outputs) that zod leaves as strings and records.
const asRegistration = (c: RegisterPasskeyDto['credential']) => c as unknown as RegistrationResponseJSON;
const asAssertion = (c: CompletePasskeyLoginDto['credential']) => c as unknown as AuthenticationResponseJSON;

@ApiTags('auth')
@Controller('v1/auth/mfa/passkeys')
export class PasskeyController {
  constructor(private readonly passkeys: PasskeyService) {}

  @ApiOperation({ summary: 'List my passkeys' })
  @Get()
  @Authenticated({ mfaEnrolment: true })
  @ApiOkResponse({ type: PasskeyList, description: 'Oldest first' })
  list(@Caller() call: CallContext) {
    return this.passkeys.list(call);
  }

  @ApiOperation({ summary: 'Start registering a passkey: options for navigator.credentials.create()' })
  @Post('registration/options')
  @HttpCode(200)
  @Authenticated({ mfaEnrolment: true })
  @ApiOkResponse({
    type: PasskeyRegistrationOptionsResponse,
    description: 'Its challenge is good once, for five minutes; asking again replaces it',
  })
  registrationOptions(@Caller() call: CallContext) {
    return this.passkeys.registrationOptions(call);
  }

  @ApiOperation({ summary: 'Register a passkey with what the authenticator answered' })
  @Post()
  @Authenticated({ mfaEnrolment: true })
  @ApiCreatedResponse({ type: PasskeyRegisteredResponse, description: 'Registered: it is a second factor from now on' })
  @ApiConflictResponse({
    description: 'No registration is waiting (expired or used), or the passkey is already registered',
  })
  @ApiUnprocessableEntityResponse({ description: 'The answer does not verify (challenge, origin, RP ID or signature)' })
  register(@Caller() call: CallContext, @Body() dto: RegisterPasskeyDto, @Req() req: AuthedRequest) {
    return this.passkeys.register(call, dto.name, asRegistration(dto.credential), clientInfo(req));
  }

  @ApiOperation({ summary: 'Rename one of my passkeys' })
  @Patch(':passkeyId')
  @Authenticated()
  @ApiOkResponse({ type: PasskeyResponse })
  rename(@Caller() call: CallContext, @Param('passkeyId') passkeyId: string, @Body() dto: RenamePasskeyDto) {
    return this.passkeys.rename(call, passkeyId, dto.name);
  }

  @ApiOperation({ summary: 'Remove one of my passkeys' })
  @Delete(':passkeyId')
  @HttpCode(204)
  @Authenticated()
  @ApiNoContentResponse({ description: 'Removed; it no longer signs in' })
  @ApiForbiddenResponse({ description: 'It is the last second factor and the reseller or tenant requires one' })
  async remove(@Caller() call: CallContext, @Param('passkeyId') passkeyId: string): Promise<void> {
    await this.passkeys.remove(call, passkeyId);
  }
}

@ApiTags('auth')
@Controller('v1/auth/login/mfa/passkey')
export class PasskeyLoginController {
  constructor(private readonly login: PasskeyLoginService) {}

  @ApiOperation({ summary: 'Options for navigator.credentials.get() to complete a sign-in with a passkey' })
  @Post('options')
  @Public()
  @KeepsCredentialCache()
  @HttpCode(200)
  @ApiOkResponse({
    type: PasskeyLoginOptionsResponse,
    description:
      'Bound to the sign-in challenge; its WebAuthn challenge is good once, while the sign-in challenge lasts',
  })
  @ApiUnauthorizedResponse({ description: 'An invalid or expired sign-in challenge, or an admin without a passkey' })
  options(@Body() dto: PasskeyLoginOptionsDto) {
    return this.login.options(dto.mfaToken);
  }

  @ApiOperation({ summary: 'Complete a sign-in with a passkey assertion' })
  @Post()
  @Public()
  @KeepsCredentialCache()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse, description: 'Signed in, as with a code' })
  @ApiUnauthorizedResponse({
    description: 'The assertion does not verify or its challenge was used or expired; counts toward the lockout',
  })
  @ApiTooManyRequestsResponse({ description: 'Too many failures for this account or address; see Retry-After' })
  complete(@Body() dto: CompletePasskeyLoginDto, @Req() req: AuthedRequest) {
    return this.login.complete(dto.mfaToken, asAssertion(dto.credential), clientInfo(req));
  }
}
