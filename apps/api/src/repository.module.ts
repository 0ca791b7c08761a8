import { Global, Module } from '@nestjs/common';
import { AliasRepository } from './aliases/alias.repository';
import { ApiKeyRepository } from './api-keys/api-key.repository';
import { AuditRepository } from './audit/audit.repository';
import { AuthRepository } from './auth/auth.repository';
import { CredentialCache } from './auth/credential-cache';
import { MfaRepository } from './auth/mfa.repository';
import { PasskeyRepository } from './auth/passkey.repository';
import { IdempotencyRepository } from './common/idempotency.repository';
import { DeliveryRepository } from './deliveries/delivery.repository';
import { DomainRepository } from './domains/domain.repository';
import { FilterRepository } from './filters/filter.repository';
import { IpRuleRepository } from './ip-rules/ip-rule.repository';
import { LegalHoldRepository } from './legal-hold/legal-hold.repository';
import { AppPasswordRepository } from './mailboxes/app-password.repository';
import { ForwardingRepository } from './mailboxes/forwarding.repository';
import { MailboxScope } from './mailboxes/mailbox-scope';
import { MailboxRepository } from './mailboxes/mailbox.repository';
import { ResellerRepository } from './resellers/reseller.repository';
import { RetentionRunRepository } from './retention-runs/retention-run.repository';
import { RetentionRepository } from './retention/retention.repository';
import { StatsRepository } from './stats/stats.repository';
import { TenantRepository } from './tenants/tenant.repository';
import { UserRepository } from './users/user.repository';
import { WebhookRepository } from './webhooks/webhook.repository';

const repositories = [
  AliasRepository,
  ApiKeyRepository,
  AppPasswordRepository,
  AuditRepository,
  AuthRepository,
  CredentialCache,
  DeliveryRepository,
  DomainRepository,
  FilterRepository,
  ForwardingRepository,
  IdempotencyRepository,
  IpRuleRepository,
  LegalHoldRepository,
  MailboxRepository,
  MfaRepository,
  PasskeyRepository,
  ResellerRepository,
  RetentionRepository,
  RetentionRunRepository,
  StatsRepository,
  TenantRepository,
  UserRepository,
  WebhookRepository,
];

/**
 * Every repository of the API, and the mailbox-scoped lookups built on them, for every module:
 * the only providers that query the database (the lint rule holds that). Each is stateless;
 * a method runs in the `Tx` its caller's unit of work (TenantDb) hands it.
 */
@Global()
@Module({ providers: [...repositories, MailboxScope], exports: [...repositories, MailboxScope] })
export class RepositoryModule {}
