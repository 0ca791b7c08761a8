import type { MailStore } from '@mailroom/mailstore';
import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import { parsePendingMessages } from './parse.processor';

/** The handlers of the messages queue. */
export function messageHandlers(store: MailStore): Pick<JobHandlers, JobName.MessageParse> {
  return {
    [JobName.MessageParse]: async () => parsePendingMessages(store),
  };
}
