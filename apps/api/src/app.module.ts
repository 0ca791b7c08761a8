import { randomUUID } from 'node:crypto';
import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import type { Config } from '@mailroom/config';
import { APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AliasesModule } from './aliases/aliases.module';
import { FiltersModule } from './filters/filters.module';
import { IpRulesModule } from './ip-rules/ip-rules.module';
import { MailboxesModule } from './mailboxes/mailboxes.module';
import { RetentionModule } from './retention/retention.module';
import { LegalHoldModule } from './legal-hold/legal-hold.module';
import { RetentionRunsModule } from './retention-runs/retention-runs.module';
import { AdminJobsModule } from './admin-jobs/admin-jobs.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { DeliveriesModule } from './deliveries/deliveries.module';
import { DomainsModule } from './domains/domains.module';
import { IdempotencyInterceptor } from './common/idempotency.interceptor';
import { CredentialCacheInterceptor } from './auth/credential-cache';
import { ValidationPipe } from './common/validation';
import { HealthModule } from './health/health.module';
import { InfraModule } from './infra/infra.module';
import { RepositoryModule } from './repository.module';
import { ResellersModule } from './resellers/resellers.module';
import { StatsModule } from './stats/stats.module';
import { TenantsModule } from './tenants/tenants.module';
import { UsersModule } from './users/users.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { webDashboardModules } from './web';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

@Module({})
export class AppModule {
  static forRoot(config: Config, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        InfraModule.forRoot(config),
        RepositoryModule,
        LoggerModule.forRoot({
          pinoHttp: {
            logger,
            // Keep a caller's X-Request-Id when it is sane, so one id follows a request through
            // a reseller's system, our logs and the problem+json body.
            genReqId: (req, res) => {
              const given = req.headers['x-request-id'];
              const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
              res.setHeader('X-Request-Id', id);
              return id;
            },
            autoLogging: { ignore: (req) => req.url === '/health' },
          },
        }),
        HealthModule,
        AuditModule,
        AuthModule,
        ResellersModule,
        TenantsModule,
        UsersModule,
        ApiKeysModule,
        MailboxesModule,
        AliasesModule,
        FiltersModule,
        IpRulesModule,
        RetentionModule,
        LegalHoldModule,
        RetentionRunsModule,
        AdminJobsModule,
        DomainsModule,
        WebhooksModule,
        DeliveriesModule,
        StatsModule,
        // Last: the dashboard's index.html fallback answers only what no route above does.
        ...webDashboardModules(),
      ],
      providers: [
        { provide: APP_PIPE, useClass: ValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
        { provide: APP_INTERCEPTOR, useClass: CredentialCacheInterceptor },
      ],
    };
  }
}
