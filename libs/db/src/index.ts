export { LISTEN_PROBE_CHANNEL, NotifyListener, type NotifyListenerOptions } from './notify-listener';
export { ReplicaRouter, type ReplicaOptions, type ReplicaState } from './replicas';
export { createPrismaClient, pingDatabase, type DbOptions } from './prisma';
export { refuseUnreplicatedCommits, UnreplicatedCommitError } from './sync-commit-guard';
export {
  closeDatabase,
  inTenantScope,
  inTransaction,
  isUniqueViolation,
  openDatabase,
  type Db,
  type JsonValue,
  type Tx,
} from './scope';
export { BLOB_CHUNK_BYTES, blobSize, storeBlob, uploadStreamedBlob, type StreamedBlob } from './blobs';
export {
  defineStatement,
  definedStatements,
  isTenantScope,
  sqlLiteral,
  tenantScope,
  type Statement,
  type TenantScope,
} from './statements';
export {
  binary,
  defineCopyStatement,
  inlineParams,
  parseBinaryCopy,
  type ColumnDecoder,
  type CopyStatement,
} from './binary-copy';
export * from './generated/client';
