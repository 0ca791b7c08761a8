export { storeGeneratedMessage } from './copy';
export { queueGeneratedOutbound } from './outbox.repository';
export { MailStore } from './mail-store';
export {
  BlobStore,
  blobStore,
  blobStoreFromSettings,
  configureBlobStore,
  objectKey,
  useBlobStore,
  type BlobStoreSettings,
} from './blob-store';
export { moveBlobsToObjectStore, orphanSweepCutoff, sweepOrphanObjects, type MoveProgress } from './blob-migration';
export { blobCounts } from './blob-object.repository';
export { S3ObjectStore, type ObjectStore, type S3Settings, type StoredObject } from './object-store';
export { BLOB_CHUNK_BYTES, MailboxReader } from './mailbox-reader';
export { FOLDER_DELIMITER, normaliseFolderName } from './folder-name';
export {
  BlobNotFound,
  FolderExists,
  FolderHasChildren,
  FolderNotFound,
  FolderProtected,
  InvalidFolderName,
  MailboxUnavailable,
  QuotaExceeded,
  isQuotaExceeded,
  type QuotaScope,
} from './errors';
export { TenantUsage, tenantUsage } from './tenant-usage';
export { searchStatement } from './search.repository';
export { MAIL_CHANNEL, parseMailNotification, type MailNotification } from './notify';
export type { RemovedMessage } from './expunge.repository';
export type { ClaimedMessage, ExpiryTarget, MailboxUsage } from './maintenance.repository';
export type { BlobKey } from './blob.repository';
export type { ParseResult, PendingParse } from './parse.repository';
export * from './types';
export * from './mailbox.types';
