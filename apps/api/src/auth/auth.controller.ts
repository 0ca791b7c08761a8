import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiOperation,
} from '@nestjs/swagger';
import { Authenticated, Public } from './authenticated.decorator';
import { LoginDto, MeResponse, RefreshDto, TokenPairResponse } from './auth.dto';
import { AuthService } from './auth.service';
import { clientIp } from './auth.guard';
import { Caller, type AuthedRequest, type CallContext } from './request-context';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @ApiOperation({ summary: 'Log in with email and password' })
  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairResponse })
  @ApiUnauthorizedResponse({
    description: 'Invalid email or password (the same answer whether or not the email exists)',
  })
  @ApiTooManyRequestsResponse({ description: 'Too many failures for this account or address; see Retry-After' })
  login(@Body() dto: LoginDto, @Req() req: AuthedRequest) {
    return this.auth.login(dto.email, dto.password, clientIp(req));
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
    return this.auth.refresh(dto.refreshToken, clientIp(req));
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
  @Authenticated()
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
