export { createPrismaClient, pingDatabase, type DbOptions } from './prisma';
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
export { storeBlob } from './blobs';
export { defineStatement, definedStatements, type Statement } from './statements';
export * from './generated/client';
