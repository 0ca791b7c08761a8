import { Body, Controller, Get, Header, Headers, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiOperation,
} from '@nestjs/swagger';
import { XMLParser } from 'fast-xml-parser';
import { ValidationFailed } from '@mailroom/core';
import { Public } from '../auth/authenticated.decorator';
import { ClientSettingsService } from './client-settings.service';

function requireEmail(value: unknown, field: string): string {
  if (typeof value !== 'string' || !value.includes('@')) {
    throw new ValidationFailed('The request has invalid fields.', [{ field, message: 'must be an email address' }]);
  }
  return value.trim();
}

/** Public endpoints mail clients call to set themselves up. */
@ApiTags('client-settings')
@Public()
@Controller()
export class ClientSettingsController {
  constructor(private readonly settings: ClientSettingsService) {}

  @ApiOperation({ summary: 'Mail client settings for an address' })
  @Get('v1/client-settings')
  @ApiQuery({ name: 'email', required: true, type: String, description: 'The address to configure' })
  @ApiOkResponse({ description: 'IMAP (993 SSL), POP3 (995 SSL) and SMTP (465 SSL, 587 STARTTLS) for the address' })
  @ApiNotFoundResponse({ description: 'Not a domain hosted here' })
  json(@Query('email') email: unknown) {
    return this.settings.forEmail(requireEmail(email, 'email'));
  }

  @ApiOperation({ summary: 'Thunderbird autoconfig' })
  @Get(['mail/config-v1.1.xml', '.well-known/autoconfig/mail/config-v1.1.xml'])
  @Header('content-type', 'application/xml; charset=utf-8')
  @ApiProduces('application/xml')
  @ApiQuery({ name: 'emailaddress', required: true, type: String, description: 'The address to configure' })
  @ApiOkResponse({ description: 'Thunderbird autoconfig (clientConfig 1.1)', schema: { type: 'string' } })
  @ApiNotFoundResponse({ description: 'Not a domain hosted here' })
  thunderbird(@Query('emailaddress') email: unknown) {
    return this.settings.thunderbird(requireEmail(email, 'emailaddress'));
  }

  @ApiOperation({ summary: 'Outlook autodiscover' })
  @Post(['autodiscover/autodiscover.xml', 'Autodiscover/Autodiscover.xml'])
  @HttpCode(200)
  @Header('content-type', 'application/xml; charset=utf-8')
  @ApiProduces('application/xml')
  @ApiOkResponse({
    description: 'Outlook autodiscover (POX, outlook response schema 2006a)',
    schema: { type: 'string' },
  })
  @ApiConsumes('text/xml', 'application/xml')
  @ApiBody({
    required: true,
    description: 'An Autodiscover request naming Request.EMailAddress',
    schema: { type: 'string' },
  })
  @ApiNotFoundResponse({ description: 'Not a domain hosted here' })
  outlook(@Body() body: unknown) {
    const parsed: unknown = typeof body === 'string' ? new XMLParser({ removeNSPrefix: true }).parse(body) : null;
    const email = (parsed as { Autodiscover?: { Request?: { EMailAddress?: unknown } } } | null)?.Autodiscover?.Request
      ?.EMailAddress;
    return this.settings.outlook(requireEmail(email, 'Autodiscover.Request.EMailAddress'));
  }

  @ApiOperation({ summary: 'MTA-STS policy of a hosted domain' })
  @Get('.well-known/mta-sts.txt')
  @Header('content-type', 'text/plain; charset=utf-8')
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'The MTA-STS policy of the domain named by the Host header (mta-sts.<domain>)',
    schema: { type: 'string' },
  })
  @ApiNotFoundResponse({ description: 'The Host header names no domain hosted here' })
  mtaSts(@Headers('host') host: string | undefined) {
    return this.settings.mtaSts(host ?? '');
  }
}
