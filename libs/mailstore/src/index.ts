export { storeGeneratedMessage } from './copy';
export { MailStore } from './mail-store';
export { FolderNotFound, MailboxUnavailable, QuotaExceeded, isQuotaExceeded, type QuotaScope } from './errors';
export { TenantUsage, tenantUsage } from './tenant-usage';
export type { RemovedMessage } from './message.repository';
export type { ClaimedMessage, ExpiryTarget, MailboxUsage } from './maintenance.repository';
export type { BlobKey } from './blob.repository';
export type { ParseResult, PendingParse } from './parse.repository';
export * from './types';
