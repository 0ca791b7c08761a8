import type { Config } from '@mailroom/config';
import { srsKey } from './srs-key';
import type { ResolverOptions } from './recipient-resolver';

/**
 * The platform's own addresses the resolver knows: the bounce domain of VERP and SRS, the SRS
 * key, and the postmaster a bare `postmaster` reaches. As Postfix's $mydomain, the default
 * postmaster domain is MX_HOSTNAME without its first label (mx.mailroom.test → mailroom.test).
 */
export function resolverOptions(config: Config): ResolverOptions {
  const labels = config.MX_HOSTNAME.split('.');
  const domain = labels.length > 2 ? labels.slice(1).join('.') : config.MX_HOSTNAME;
  return {
    bounceDomain: config.BOUNCE_DOMAIN ?? config.MX_HOSTNAME,
    srsKey: srsKey(config.MASTER_KEY),
    postmaster: config.POSTMASTER_ADDRESS ?? `postmaster@${domain}`,
  };
}
