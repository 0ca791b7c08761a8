import type { PrismaClient } from '@mailroom/db';
import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import { parsePendingMessages } from './parse.processor';

/** The handlers of the messages queue. */
export function messageHandlers(prisma: PrismaClient): Pick<JobHandlers, JobName.MessageParse> {
  return {
    [JobName.MessageParse]: async () => parsePendingMessages(prisma),
  };
}
