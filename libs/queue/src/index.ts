export { QueueName, JobName, JOB_QUEUE, JOB_SCHEDULES, jobIdFor, type JobPayloads } from './jobs';
export { JobProducer } from './producer';
export { createRedis, pingRedis } from './redis';
