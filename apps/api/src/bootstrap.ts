import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { NestFactory } from '@nestjs/core';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import type { Config } from '@mailroom/config';
import { AppModule } from './app.module';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { mountOpenApi } from './openapi';

/** Builds the API application (not yet listening); used by main.ts and by the tests. */
export async function createApiApp(config: Config, logger: Logger): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, logger), {
    bufferLogs: true,
    abortOnError: false,
  });
  // Outlook's autodiscover posts XML.
  app.useBodyParser('text', { type: ['text/xml', 'application/xml'], limit: '64kb' });
  // Mailbox imports post CSV; a company's worth is far beyond the JSON parser's 100 kB.
  app.useBodyParser('text', { type: ['text/csv', 'text/plain'], limit: '10mb' });
  app.useLogger(app.get(NestPinoLogger));
  app.useGlobalFilters(new ProblemDetailsFilter(logger));
  const express = app.getHttpAdapter().getInstance();
  express.disable('x-powered-by');
  // Behind a proxy, the client address comes from X-Forwarded-For (rate limits, allowlists).
  express.set('trust proxy', config.TRUST_PROXY);
  mountOpenApi(app);
  return app;
}
