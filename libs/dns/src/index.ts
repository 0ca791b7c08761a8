export { normalizeDomain, type NormalizeDomainOptions, type NormalizedDomain } from './domain-name';
export { dkimSelector, dkimTxtValue, generateDkimKeyPair, type DkimKeyPair } from './dkim-key';
export {
  buildDnsPlan,
  mtaStsIdFor,
  STANDARD_CLIENT_PORTS,
  type ClientPorts,
  mtaStsPolicy,
  ownershipTxtValue,
  reverseName,
  type DkimKeyStatus,
  type DmarcPolicy,
  type DnsCheckStatus,
  type DnsPlanInput,
  type DnsRecord,
  type DnsRecordType,
  type MtaStsMode,
} from './dns-plan';
export { parseBindZone, renderBindZone, splitTxt, type ZoneRecord } from './zone';
export {
  countSpfLookups,
  isSpfRecord,
  mergeSpf,
  parseSpf,
  SPF_LOOKUP_LIMIT,
  spfRecordFor,
  type MergedSpf,
  type ParsedSpf,
  type ResolveTxt,
  type SpfLookupCount,
  type SpfQualifier,
  type SpfTerm,
} from './spf';
export { parseTagList } from './tag-list';
export { createNodeResolver, formatDnsServer, type DnsResolver, type DnsServerAddress } from './dns-resolver';
export { checkDomainDns, expectedText, type CheckDomainDnsOptions } from './dns-check';
export type { CheckOutcome, DnsCheckResult } from './dns-check-result';
export { nextDomainStatus, type DomainStatus } from './domain-status';
export { cachingResolver, DnsCache, type DnsCacheOptions, type DnsCacheStats } from './dns-cache';
