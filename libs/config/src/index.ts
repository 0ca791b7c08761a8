export {
  configSchema,
  parseDnsServer,
  type Config,
  type ConfigInput,
  type DnsServer,
  type RedisNode,
} from './config.schema';
export { ConfigError, loadConfig, loadConfigOrExit } from './load-config';
export { loadTls, type TlsPair } from './tls';
export { webauthnRelyingParty, type WebAuthnRelyingParty } from './webauthn';
