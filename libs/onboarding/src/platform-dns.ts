import type { Config } from '@mailroom/config';
import { buildDnsPlan, isSpfRecord, type ClientPorts, type DnsCheckStatus, type DnsRecord } from '@mailroom/dns';
import type { DkimKey, DnsCheck, Domain } from '@mailroom/db';

/** What every tenant's DNS plan points at: the platform's own hosts and report addresses. */
export interface PlatformDns {
  mxHostname: string;
  spfInclude: string;
  dmarcPolicy: 'none' | 'quarantine' | 'reject';
  dmarcRua: string;
  tlsRptRua: string;
  clientHosts: { imap: string; pop3: string; submission: string };
  clientPorts: ClientPorts;
  autoconfigTarget: string;
  sendingIps: string[];
  ptrHostname: string;
  platformDomains: string[];
  ttl: number;
}

/** The parent of a host name: `mx.mailroom.test` → `mailroom.test`. */
export function parentDomain(host: string): string {
  const labels = host.split('.');
  return labels.length > 2 ? labels.slice(1).join('.') : host;
}

export function platformDnsFromConfig(config: Config): PlatformDns {
  const base = parentDomain(config.MX_HOSTNAME);
  return {
    mxHostname: config.MX_HOSTNAME,
    spfInclude: config.SPF_INCLUDE ?? base,
    dmarcPolicy: config.DMARC_POLICY,
    dmarcRua: config.DMARC_RUA ?? `dmarc-reports@${base}`,
    tlsRptRua: config.TLSRPT_RUA ?? `tls-reports@${base}`,
    clientHosts: {
      imap: config.CLIENT_IMAP_HOSTNAME ?? config.MX_HOSTNAME,
      pop3: config.CLIENT_POP3_HOSTNAME ?? config.MX_HOSTNAME,
      submission: config.CLIENT_SUBMISSION_HOSTNAME ?? config.MX_HOSTNAME,
    },
    clientPorts: {
      imaps: config.CLIENT_IMAPS_PORT,
      pop3s: config.CLIENT_POP3S_PORT,
      submission: config.CLIENT_SUBMISSION_PORT,
      submissions: config.CLIENT_SUBMISSIONS_PORT,
    },
    autoconfigTarget: config.AUTOCONFIG_HOSTNAME ?? config.MX_HOSTNAME,
    sendingIps: config.SENDING_IPS,
    ptrHostname: config.MX_HOSTNAME,
    // Tenants may not add our own domains (nor anything under them).
    platformDomains: [...new Set([...config.PLATFORM_DOMAINS, base])],
    ttl: 3600,
  };
}

/** Keys that still appear in DNS: all but retired ones. */
export function publishedKeys(keys: readonly DkimKey[]): DkimKey[] {
  return keys.filter((k) => k.status !== 'retired');
}

/**
 * The DNS plan of a domain, with each record's latest check status. When the domain already
 * publishes an SPF record without our include, the plan proposes one merged record.
 */
export function planForDomain(
  platform: PlatformDns,
  domain: Domain,
  keys: readonly DkimKey[],
  checks: readonly DnsCheck[],
): DnsRecord[] {
  const statusByKey: Record<string, DnsCheckStatus> = {};
  for (const c of checks) statusByKey[c.recordKey] = c.status;
  const spfFound = checks.find((c) => c.recordKey === 'spf')?.found;
  const existingSpf = Array.isArray(spfFound)
    ? spfFound.filter(
        (v): v is string => typeof v === 'string' && isSpfRecord(v) && !v.includes(`include:${platform.spfInclude}`),
      )
    : [];
  return buildDnsPlan({
    domain: domain.name,
    ownershipToken: domain.ownershipToken,
    mxHostname: platform.mxHostname,
    spfInclude: platform.spfInclude,
    existingSpf,
    dmarcPolicy: platform.dmarcPolicy,
    dmarcRua: platform.dmarcRua,
    dkim: publishedKeys(keys).map((k) => ({ selector: k.selector, publicKey: k.publicKey, status: k.status })),
    mtaStsId: domain.mtaStsId ?? 'none',
    mtaStsMode: domain.mtaStsMode === 'enforce' || domain.mtaStsMode === 'none' ? domain.mtaStsMode : 'testing',
    tlsRptRua: platform.tlsRptRua,
    clientHosts: platform.clientHosts,
    clientPorts: platform.clientPorts,
    autoconfigTarget: platform.autoconfigTarget,
    sendingIps: platform.sendingIps,
    ptrHostname: platform.ptrHostname,
    ttl: platform.ttl,
    checks: statusByKey,
  });
}
