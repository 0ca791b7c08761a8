export { QueueName, JobName, JOB_QUEUE, JOB_SCHEDULES, type JobPayloads } from './jobs';
export { createRedis, pingRedis } from './redis';
