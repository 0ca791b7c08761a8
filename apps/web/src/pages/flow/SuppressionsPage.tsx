import { useEffect, useState, type FormEvent } from 'react';
import { type ApiClient } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../../ui';
import { FlowTabs, Pager, useCursorPages } from './common';

/** Addresses the platform will not send to: hard bounces, complaints and manual entries. */
export function SuppressionsPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t, formatDate } = useI18n();
  const [query, setQuery] = useState('');
  const [search, setSearch] = useState('');
  const [line, showLine] = useStatus();
  const pages = useCursorPages();
  const { reset } = pages;
  useEffect(() => {
    const timer = window.setTimeout(() => {
      setSearch(query.trim());
      reset();
    }, 250);
    return () => window.clearTimeout(timer);
  }, [query, reset]);
  const [list, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/suppressions', {
          params: {
            path: { tenantId },
            query: { limit: 50, ...(search ? { q: search } : {}), ...(pages.cursor ? { cursor: pages.cursor } : {}) },
          },
        }),
      ),
    `${tenantId}|${search}|${pages.cursor ?? ''}`,
  );
  const removing = useFormAction();
  const remove = (id: string, address: string) =>
    removing.run(async () => {
      mustSucceed(
        await client.DELETE('/v1/tenants/{tenantId}/suppressions/{suppressionId}', {
          params: { path: { tenantId, suppressionId: id } },
        }),
      );
      showLine(t('flow.suppressions.removed', { address }));
      reload();
    });

  return (
    <section>
      <FlowTabs current="/suppressions" />
      <PageTitle>{t('flow.suppressions.title')}</PageTitle>
      <p className="muted">{t('flow.suppressions.hint')}</p>
      <AddSuppression
        client={client}
        tenantId={tenantId}
        onAdded={(address) => {
          showLine(t('flow.suppressions.added', { address }));
          reload();
        }}
      />
      {line}
      <div className="toolbar" role="search">
        <label className="field field-inline">
          <span>{t('flow.suppressions.search')}</span>
          <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
      </div>
      {removing.error !== null && <ErrorBox error={removing.error} />}
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.items.length === 0 && (
        <p className="empty">{t('flow.suppressions.empty')}</p>
      )}
      {list.state === 'ready' && list.data.items.length > 0 && (
        <table className="table suppressions">
          <thead>
            <tr>
              <th scope="col">{t('flow.suppressions.address')}</th>
              <th scope="col">{t('flow.suppressions.reason')}</th>
              <th scope="col">{t('flow.deliveries.created')}</th>
              <th scope="col">{t('flow.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((s) => (
              <tr key={s.id}>
                <td data-label={t('flow.suppressions.address')}>{s.address}</td>
                <td data-label={t('flow.suppressions.reason')}>
                  {t(`flow.suppressions.reason.${s.reason}`)}
                  {s.detail && <div className="muted small">{s.detail}</div>}
                </td>
                <td data-label={t('flow.deliveries.created')}>{formatDate(s.createdAt)}</td>
                <td data-label={t('flow.actions')}>
                  <button
                    type="button"
                    className="button button-small button-danger"
                    disabled={removing.busy}
                    aria-label={t('flow.suppressions.removeLabel', { address: s.address })}
                    onClick={() => void remove(s.id, s.address)}
                  >
                    {t('flow.suppressions.remove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.state === 'ready' && (
        <Pager label={t('flow.suppressions.title')} pages={pages} nextCursor={list.data.nextCursor} />
      )}
    </section>
  );
}

function AddSuppression({
  client,
  tenantId,
  onAdded,
}: {
  client: ApiClient;
  tenantId: string;
  onAdded: (address: string) => void;
}) {
  const { t } = useI18n();
  const [address, setAddress] = useState('');
  const [detail, setDetail] = useState('');
  const { busy, error, run } = useFormAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const added = must(
        await client.POST('/v1/tenants/{tenantId}/suppressions', {
          params: { path: { tenantId } },
          body: { address: address.trim(), ...(detail.trim() ? { detail: detail.trim() } : {}) },
        }),
      );
      setAddress('');
      setDetail('');
      onAdded(added.address);
    });
  };
  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)}>
      <h2>{t('flow.suppressions.add')}</h2>
      <label className="field">
        <span>{t('flow.suppressions.address')}</span>
        <input type="email" required maxLength={320} value={address} onChange={(e) => setAddress(e.target.value)} />
      </label>
      <label className="field">
        <span>{t('flow.suppressions.detail')}</span>
        <input maxLength={500} value={detail} onChange={(e) => setDetail(e.target.value)} />
      </label>
      {error !== null && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('flow.suppressions.addSubmit')}
        </button>
      </div>
    </form>
  );
}
