export { addresses, findDestination, type Destination } from './destination';
export { dkimPrivateKey, signDkim, type DkimSigner } from './dkim-sign';
export {
  BounceRepository,
  type Bounce,
  type BounceAttempt,
  type RecordedBounce,
  type RemoteReport,
} from './bounce.repository';
export { buildDsn, dsnSubject, headerOf, type DsnAction, type DsnInput, type DsnRecipient } from './dsn';
export { dsnParams, dsnRequested, successAction, type DsnEvent, type DsnParams } from './dsn-policy';
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
