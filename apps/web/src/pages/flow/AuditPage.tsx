import { useState, type FormEvent } from 'react';
import { type ApiClient } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, Loading, PageTitle, useLoad } from '../../ui';
import { FlowTabs, JsonDetails, Pager, useCursorPages } from './common';

/** Who did what to which object, newest first, filtered by action (a prefix ending in *). */
export function AuditPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t, formatDate } = useI18n();
  const [action, setAction] = useState('');
  const [filter, setFilter] = useState('');
  const pages = useCursorPages();
  const [list, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/audit-log', {
          params: {
            path: { tenantId },
            query: {
              limit: 50,
              ...(filter ? { action: filter } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      ),
    `${tenantId}|${filter}|${pages.cursor ?? ''}`,
  );
  const search = (event: FormEvent) => {
    event.preventDefault();
    setFilter(action.trim());
    pages.reset();
  };
  return (
    <section>
      <FlowTabs current="/audit-log" />
      <PageTitle>{t('flow.audit.title')}</PageTitle>
      <form className="toolbar form-grid" role="search" onSubmit={search}>
        <label className="field">
          <span>{t('flow.audit.action')}</span>
          <input
            type="search"
            value={action}
            placeholder="delivery.*"
            aria-describedby="audit-action-hint"
            onChange={(e) => setAction(e.target.value)}
          />
          <span id="audit-action-hint" className="muted small">
            {t('flow.audit.actionHint')}
          </span>
        </label>
        <div className="form-actions">
          <button type="submit" className="button button-primary">
            {t('flow.search')}
          </button>
        </div>
      </form>
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.items.length === 0 && <p className="empty">{t('flow.audit.empty')}</p>}
      {list.state === 'ready' && list.data.items.length > 0 && (
        <table className="table audit">
          <thead>
            <tr>
              <th scope="col">{t('flow.audit.when')}</th>
              <th scope="col">{t('flow.audit.who')}</th>
              <th scope="col">{t('flow.audit.action')}</th>
              <th scope="col">{t('flow.audit.target')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((entry) => (
              <tr key={entry.id}>
                <td data-label={t('flow.audit.when')}>{formatDate(entry.createdAt)}</td>
                <td data-label={t('flow.audit.who')}>
                  {entry.actorLabel ?? entry.actorId ?? t(`flow.audit.actor.${entry.actorType}`)}
                  <div className="muted small">
                    {t(`flow.audit.actor.${entry.actorType}`)}
                    {entry.ip && ` · ${entry.ip}`}
                  </div>
                </td>
                <td data-label={t('flow.audit.action')}>
                  <code>{entry.action}</code>
                  <JsonDetails summary={t('flow.audit.before')} value={entry.before} />
                  <JsonDetails summary={t('flow.audit.after')} value={entry.after} />
                </td>
                <td data-label={t('flow.audit.target')}>
                  {entry.targetType ?? '—'}
                  {entry.targetId && <div className="muted small break">{entry.targetId}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.state === 'ready' && (
        <Pager label={t('flow.audit.title')} pages={pages} nextCursor={list.data.nextCursor} />
      )}
    </section>
  );
}
