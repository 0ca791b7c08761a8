import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { NotFound } from '@mailroom/core';
import type { Domain } from '@mailroom/db';
import { mtaStsPolicy } from '@mailroom/dns';
import { parseMailAddress } from '@mailroom/mail';
import { platformDnsFromConfig, type PlatformDns } from '@mailroom/onboarding';
import { CONFIG } from '../infra/tokens';
import { DomainRepository } from './domain.repository';

export interface ServerSetting {
  host: string;
  port: number;
  security: 'SSL' | 'STARTTLS';
}

export interface ClientSettings {
  email: string;
  domain: string;
  username: string;
  imap: ServerSetting;
  pop3: ServerSetting;
  smtp: ServerSetting[];
}

const SERVING = ['verified', 'active', 'degraded'] as const;
const xml = (s: string) =>
  s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/**
 * What a mail client needs to set up an account, for hosted domains only: RFC 6186-style
 * settings as JSON, Thunderbird's autoconfig XML, Outlook's autodiscover XML, and the MTA-STS
 * policy file of a domain.
 */
@Injectable()
export class ClientSettingsService {
  private readonly platform: PlatformDns;

  constructor(
    private readonly domains: DomainRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {
    this.platform = platformDnsFromConfig(config);
  }

  private async hostedDomain(name: string): Promise<Domain> {
    const domain = await this.domains.findServing(name.toLowerCase(), SERVING);
    if (!domain) throw new NotFound(`${name} is not a domain hosted here.`);
    return domain;
  }

  async forEmail(email: string): Promise<ClientSettings> {
    const parsed = parseMailAddress(email, { smtputf8: true });
    if (!parsed.ok) throw new NotFound(`${email} is not an address of a domain hosted here.`);
    const domain = await this.hostedDomain(parsed.value.domain);
    const hosts = this.platform.clientHosts;
    const ports = this.platform.clientPorts;
    return {
      email: parsed.value.address,
      domain: domain.name,
      username: parsed.value.address,
      imap: { host: hosts.imap, port: ports.imaps, security: 'SSL' },
      pop3: { host: hosts.pop3, port: ports.pop3s, security: 'SSL' },
      smtp: [
        { host: hosts.submission, port: ports.submissions, security: 'SSL' },
        { host: hosts.submission, port: ports.submission, security: 'STARTTLS' },
      ],
    };
  }

  /** Thunderbird autoconfig (clientConfig version 1.1). */
  async thunderbird(email: string): Promise<string> {
    const s = await this.forEmail(email);
    const server = (tag: string, type: string, setting: ServerSetting) =>
      `    <${tag} type="${type}">
      <hostname>${xml(setting.host)}</hostname>
      <port>${setting.port}</port>
      <socketType>${setting.security}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </${tag}>`;
    return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${xml(s.domain)}">
    <domain>${xml(s.domain)}</domain>
    <displayName>${xml(s.domain)} mail</displayName>
    <displayShortName>${xml(s.domain)}</displayShortName>
${server('incomingServer', 'imap', s.imap)}
${server('incomingServer', 'pop3', s.pop3)}
${s.smtp.map((o) => server('outgoingServer', 'smtp', o)).join('\n')}
  </emailProvider>
</clientConfig>
`;
  }

  /** Outlook autodiscover, the POX "outlook" response schema (2006a). */
  async outlook(email: string): Promise<string> {
    const s = await this.forEmail(email);
    const protocol = (type: string, setting: ServerSetting, extra = '') => `      <Protocol>
        <Type>${type}</Type>
        <Server>${xml(setting.host)}</Server>
        <Port>${setting.port}</Port>
        <DomainRequired>off</DomainRequired>
        <LoginName>${xml(s.username)}</LoginName>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <AuthRequired>on</AuthRequired>${extra}
      </Protocol>`;
    return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
${protocol('IMAP', s.imap)}
${protocol('POP3', s.pop3)}
${protocol('SMTP', s.smtp[0]!, '\n        <UsePOPAuth>on</UsePOPAuth>\n        <SMTPLast>off</SMTPLast>')}
    </Account>
  </Response>
</Autodiscover>
`;
  }

  /** The MTA-STS policy (RFC 8461 §3.2) served at https://mta-sts.<domain>/.well-known/mta-sts.txt. */
  async mtaSts(host: string): Promise<string> {
    const name = host
      .toLowerCase()
      .replace(/:\d+$/, '')
      .replace(/^mta-sts\./, '');
    const domain = await this.hostedDomain(name);
    const mode = domain.mtaStsMode === 'enforce' || domain.mtaStsMode === 'none' ? domain.mtaStsMode : 'testing';
    return mtaStsPolicy({ mode, mxHostname: this.platform.mxHostname, maxAge: 604_800 });
  }
}
