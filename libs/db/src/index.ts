export { createPrismaClient, pingDatabase, type DbOptions } from './prisma';
export { storeBlob } from './blobs';
export * from './generated/client';
