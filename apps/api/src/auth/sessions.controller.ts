import { Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from './authenticated.decorator';
import { EndedSessionsResponse, SessionList } from './mfa.dto';
import { Caller, type CallContext } from './request-context';
import { SessionsService } from './sessions.service';

@ApiTags('auth')
@Controller('v1/auth/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @ApiOperation({ summary: 'List my sessions (signed-in browsers and clients)' })
  @Get()
  @Authenticated()
  @ApiOkResponse({ type: SessionList, description: 'Live sessions, most recently used first' })
  list(@Caller() call: CallContext) {
    return this.sessions.list(call);
  }

  @ApiOperation({ summary: 'Sign out everywhere else: end every session but this one' })
  @Post('end-others')
  @HttpCode(200)
  @Authenticated()
  @ApiOkResponse({ type: EndedSessionsResponse })
  endOthers(@Caller() call: CallContext) {
    return this.sessions.endOthers(call);
  }

  @ApiOperation({ summary: 'End one of my sessions' })
  @Delete(':sessionId')
  @HttpCode(204)
  @Authenticated()
  @ApiNoContentResponse({ description: 'Its refresh token and its access tokens stop working at once' })
  async end(@Caller() call: CallContext, @Param('sessionId') sessionId: string): Promise<void> {
    await this.sessions.end(call, sessionId);
  }
}
