import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiOperation,
  ApiExtraModels,
  getSchemaPath,
} from '@nestjs/swagger';
import { Authenticated, Public } from './authenticated.decorator';
import { KeepsCredentialCache } from './credential-cache';
import { CompleteMfaDto, LOGIN_RESPONSES, LoginDto, MeResponse, RefreshDto, TokenPairResponse } from './auth.dto';
import { AuthService, type ClientInfo } from './auth.service';
import { clientIp } from './auth.guard';
import { Caller, type AuthedRequest, type CallContext } from './request-context';

/** The client facts a new session keeps: its address and (shortened) User-Agent. */
export function clientInfo(req: AuthedRequest): ClientInfo {
  const ua = req.headers['user-agent'];
  return { ip: clientIp(req), userAgent: typeof ua === 'string' && ua !== '' ? ua.slice(0, 300) : null };
}

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @ApiOperation({ summary: 'Log in with email and password' })
  @Post('login')
  @Public()
  @KeepsCredentialCache()
  @HttpCode(200)
  @ApiExtraModels(...LOGIN_RESPONSES)
  @ApiOkResponse({
    schema: {
      // Told apart by the `status` constant of each; no `discriminator`, which openapi-typescript
      // would turn into the schema names as the status values.
      oneOf: LOGIN_RESPONSES.map((dto) => ({ $ref: getSchemaPath(dto) })),
    },
    description:
      'By `status`: `authenticated` with tokens; `mfa_required` with a challenge for POST /v1/auth/login/mfa; ' +
      '`mfa_enrolment_required` with a token that reaches only the enrolment routes',
  })
  @ApiUnauthorizedResponse({
    description: 'Invalid email or password (the same answer whether or not the email exists)',
  })
  @ApiTooManyRequestsResponse({ description: 'Too many failures for this account or address; see Retry-After' })
  login(@Body() dto: LoginDto, @Req() req: AuthedRequest) {
    return this.auth.login(dto.email, dto.password, clientInfo(req));
  }

  @ApiOperation({ summary: 'Complete a sign-in with a TOTP code or a recovery code' })
  @Post('login/mfa')
  @Public()
  @KeepsCredentialCache()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse, description: 'Signed in; a recovery code used here is spent' })
  @ApiUnauthorizedResponse({
    description: 'Wrong, expired or already used code, or an expired challenge; wrong codes count toward the lockout',
  })
  @ApiTooManyRequestsResponse({ description: 'Too many failures for this account or address; see Retry-After' })
  completeMfa(@Body() dto: CompleteMfaDto, @Req() req: AuthedRequest) {
    return this.auth.completeMfa(dto.mfaToken, dto.code, clientInfo(req));
  }

  @ApiOperation({ summary: 'Exchange a refresh token for new tokens' })
  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({
    type: TokenPairResponse,
    description: 'A new access token and a new refresh token; the old one is spent',
  })
  @ApiUnauthorizedResponse({ description: 'Unknown, expired or reused refresh token (reuse revokes the whole login)' })
  refresh(@Body() dto: RefreshDto, @Req() req: AuthedRequest) {
    return this.auth.refresh(dto.refreshToken, clientInfo(req));
  }

  @ApiOperation({ summary: 'Log out: revoke a refresh token and its login' })
  @Post('logout')
  @Public()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'The refresh token and every token of its login are revoked' })
  async logout(@Body() dto: RefreshDto): Promise<void> {
    await this.auth.logout(dto.refreshToken);
  }

  @ApiOperation({ summary: 'Describe the calling credential' })
  @Get('me')
  @Authenticated({ mfaEnrolment: true })
  @ApiOkResponse({ type: MeResponse, description: 'The calling credential' })
  me(@Caller() call: CallContext) {
    const p = call.principal;
    return {
      kind: p.kind,
      id: p.id,
      label: p.label,
      role: p.role,
      resellerId: p.resellerId,
      tenantId: p.tenantId,
      scopes: [...p.scopes].sort(),
      domains: [...p.domains],
    };
  }
}
