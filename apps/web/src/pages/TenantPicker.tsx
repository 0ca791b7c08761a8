import { type ApiClient } from '@mailroom/api-client';
import { useI18n } from '../i18n';
import { must } from '../session';
import { ErrorBox, Loading, PageTitle, useLoad } from '../ui';

/** A reseller or platform admin first picks the tenant the pages manage. */
export function TenantPicker({ client, onChoose }: { client: ApiClient; onChoose: (tenantId: string) => void }) {
  const { t } = useI18n();
  const [tenants, reload] = useLoad(
    async () => must(await client.GET('/v1/tenants', { params: { query: { limit: 200 } } })).items,
    'tenants',
  );
  return (
    <section>
      <PageTitle>{t('tenant.choose')}</PageTitle>
      <p>{t('tenant.none')}</p>
      {tenants.state === 'loading' && <Loading />}
      {tenants.state === 'error' && <ErrorBox error={tenants.error} onRetry={reload} />}
      {tenants.state === 'ready' &&
        (tenants.data.length === 0 ? (
          <p>{t('tenant.empty')}</p>
        ) : (
          <ul className="plain-list">
            {tenants.data.map((tenant) => (
              <li key={tenant.id}>
                <button type="button" className="button" onClick={() => onChoose(tenant.id)}>
                  {tenant.name}
                </button>
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}
