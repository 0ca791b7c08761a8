import { useState } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, Loading, PageTitle, useLoad, useStatus } from '../../ui';
import { Pager, useCursorPages } from './common';
import { CreateTenant } from './TenantForms';
import { TenantRow } from './TenantRow';

type Tenant = ApiSchema<'TenantResponse'>;
type Status = Tenant['status'];
const PAGE_SIZE = 50;

/**
 * A reseller's (or the platform's) tenants, each with its usage against its plan limits:
 * create, suspend and resume, delete and restore within the grace period, edit the limits.
 */
export function TenantsPage({ client, onManage }: { client: ApiClient; onManage: (tenantId: string) => void }) {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status | ''>('');
  const [creating, setCreating] = useState(false);
  const [line, showLine] = useStatus();
  const pages = useCursorPages();
  const [list, reload, replace] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants', {
          params: {
            query: {
              include: 'usage',
              limit: PAGE_SIZE,
              sort: 'name',
              ...(status ? { status } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      ),
    `${status}|${pages.cursor ?? ''}`,
  );
  const changed = (tenant: Tenant, message: string) => {
    if (list.state === 'ready') {
      // A status change answers without usage: keep the row's counts.
      const items = list.data.items.map((x) =>
        x.id === tenant.id ? { ...tenant, usage: tenant.usage ?? x.usage } : x,
      );
      replace({ ...list.data, items });
    }
    showLine(message);
  };
  const busiest =
    list.state === 'ready'
      ? Math.max(0, ...list.data.items.map((x) => Math.max(x.usage?.messagesIn24h ?? 0, x.usage?.messagesOut24h ?? 0)))
      : 0;

  return (
    <section>
      <div className="page-head">
        <PageTitle>{t('flow.tenants.title')}</PageTitle>
        <button
          type="button"
          className="button button-primary"
          aria-expanded={creating}
          aria-controls="new-tenant"
          onClick={() => setCreating((open) => !open)}
        >
          {creating ? t('mailboxes.cancel') : t('flow.tenants.new')}
        </button>
      </div>
      {creating && (
        <CreateTenant
          client={client}
          onCreated={(tenant) => {
            setCreating(false);
            showLine(t('flow.tenants.created', { name: tenant.name }));
            pages.reset();
            reload();
          }}
        />
      )}
      {line}
      <div className="toolbar">
        <label className="field field-inline">
          <span>{t('flow.tenants.filter')}</span>
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as Status | '');
              pages.reset();
            }}
          >
            <option value="">{t('flow.all')}</option>
            {(['active', 'suspended', 'deleted'] as const).map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.items.length === 0 && <p className="empty">{t('tenant.empty')}</p>}
      {list.state === 'ready' && list.data.items.length > 0 && (
        <table className="table tenants">
          <thead>
            <tr>
              <th scope="col">{t('flow.tenants.name')}</th>
              <th scope="col">{t('flow.tenants.domains')}</th>
              <th scope="col">{t('flow.tenants.mailboxes')}</th>
              <th scope="col">{t('flow.tenants.storage')}</th>
              <th scope="col">{t('flow.tenants.messages')}</th>
              <th scope="col">{t('flow.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((tenant) => (
              <TenantRow
                key={tenant.id}
                client={client}
                tenant={tenant}
                busiest={busiest}
                onChanged={changed}
                onManage={onManage}
              />
            ))}
          </tbody>
        </table>
      )}
      {list.state === 'ready' && (
        <Pager label={t('flow.tenants.title')} pages={pages} nextCursor={list.data.nextCursor} />
      )}
    </section>
  );
}
