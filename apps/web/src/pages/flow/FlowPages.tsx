import { type ApiClient } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { PageTitle } from '../../ui';
import { ActivityPage } from './ActivityPage';
import { ApiKeysPage } from './ApiKeysPage';
import { AuditPage } from './AuditPage';
import { DeliveriesPage } from './DeliveriesPage';
import { SuppressionsPage } from './SuppressionsPage';
import { TenantsPage } from './TenantsPage';
import { TracePage } from './TracePage';
import { WebhooksPage } from './WebhooksPage';
import './flow.css';

/**
 * The mail-flow, activity and tenants pages, loaded on demand (React.lazy in App.tsx) so the
 * first load stays small. `tenantId` is null only on the tenants page of a reseller.
 */
export default function FlowPages({
  client,
  path,
  tenantId,
  onManage,
}: {
  client: ApiClient;
  path: string;
  tenantId: string | null;
  onManage: (tenantId: string) => void;
}) {
  const { t } = useI18n();
  if (path === '/tenants') return <TenantsPage client={client} onManage={onManage} />;
  if (!tenantId) return <PageTitle>{t('nav.notFound')}</PageTitle>;
  const props = { client, tenantId };
  if (path === '/deliveries') return <DeliveriesPage {...props} />;
  if (path === '/trace') return <TracePage {...props} />;
  if (path === '/suppressions') return <SuppressionsPage {...props} />;
  if (path === '/webhooks') return <WebhooksPage {...props} />;
  if (path === '/api-keys') return <ApiKeysPage {...props} />;
  if (path === '/audit-log') return <AuditPage {...props} />;
  if (path === '/activity') return <ActivityPage {...props} />;
  return <PageTitle>{t('nav.notFound')}</PageTitle>;
}
