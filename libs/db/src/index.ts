export { createPrismaClient, pingDatabase, type DbOptions } from './prisma';
export { PrismaClient, Prisma } from './generated/client';
export * from './generated/enums';
export type * from './generated/models';
