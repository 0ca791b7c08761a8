export { QueueName, JobName, JOB_QUEUE, JOB_SCHEDULES, jobIdFor, type JobPayloads } from './jobs';
export { JobProducer } from './producer';
export { bullPrefix, createRedis, pingRedis, type RedisClient, type RedisTarget } from './redis';
