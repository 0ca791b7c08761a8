export { createPrismaClient, pingDatabase, type DbOptions } from './prisma';
export * from './generated/client';
