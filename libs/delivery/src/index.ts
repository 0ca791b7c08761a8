export { addresses, findDestination, type Destination } from './destination';
export { buildDsn, type DsnInput, type FailedRecipient } from './dsn';
export { classifyReply, enhancedCode, nextAttemptAt, type ReplyClass } from './retry-schedule';
export {
  sendToHost,
  SmtpSessionCache,
  type SessionCacheOptions,
  type HostAttempt,
  type HostResult,
  type RecipientReply,
} from './smtp-send';
export { MtaStsResolver, mxMatches, parseMtaStsPolicy, type MtaStsOptions, type MtaStsPolicy } from './mta-sts';
