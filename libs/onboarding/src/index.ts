export { addDomain, DKIM_KEY_CONTEXT, newDkimKey, type AddDomainInput } from './add-domain';
export { runDomainCheck, type DomainCheckOptions, type DomainCheckOutcome } from './domain-check';
export { parentDomain, planForDomain, platformDnsFromConfig, publishedKeys, type PlatformDns } from './platform-dns';
