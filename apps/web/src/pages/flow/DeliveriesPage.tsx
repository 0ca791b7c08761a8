import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../../ui';
import {
  DELIVERY_STATUSES,
  DeliveryBadge,
  FlowTabs,
  Pager,
  filled,
  useCursorPages,
  type DeliveryStatus,
} from './common';

type Delivery = ApiSchema<'DeliveryResponse'>;
const PAGE_SIZE = 50;

/** Outbound deliveries, searched by the server; each opens with its events, retry and cancel. */
export function DeliveriesPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t, formatDate } = useI18n();
  const [form, setForm] = useState({ status: '', recipient: '', messageId: '' });
  const [filter, setFilter] = useState(form);
  const [open, setOpen] = useState<string | null>(null);
  const [line, showLine] = useStatus();
  const pages = useCursorPages();
  const [list, reload, replace] = useLoad(
    async () => {
      const { status, ...text } = filled(filter);
      return must(
        await client.GET('/v1/tenants/{tenantId}/deliveries', {
          params: {
            path: { tenantId },
            query: {
              limit: PAGE_SIZE,
              ...text,
              ...(status ? { status: status as DeliveryStatus } : {}),
              ...(pages.cursor ? { cursor: pages.cursor } : {}),
            },
          },
        }),
      );
    },
    `${tenantId}|${JSON.stringify(filter)}|${pages.cursor ?? ''}`,
  );
  const search = (event: FormEvent) => {
    event.preventDefault();
    setFilter(form);
    setOpen(null);
    pages.reset();
  };
  const changed = (delivery: Delivery) => {
    if (list.state !== 'ready') return;
    replace({ ...list.data, items: list.data.items.map((d) => (d.id === delivery.id ? { ...d, ...delivery } : d)) });
  };

  return (
    <section>
      <FlowTabs current="/deliveries" />
      <PageTitle>{t('flow.deliveries.title')}</PageTitle>
      {line}
      <form className="toolbar form-grid" role="search" onSubmit={search}>
        <label className="field">
          <span>{t('flow.deliveries.status')}</span>
          <select value={form.status} onChange={(e) => setForm({ ...form, status: e.target.value })}>
            <option value="">{t('flow.all')}</option>
            {DELIVERY_STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`flow.status.${s}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t('flow.deliveries.recipient')}</span>
          <input
            type="search"
            value={form.recipient}
            onChange={(e) => setForm({ ...form, recipient: e.target.value })}
          />
        </label>
        <label className="field">
          <span>{t('flow.deliveries.messageId')}</span>
          <input
            type="search"
            value={form.messageId}
            onChange={(e) => setForm({ ...form, messageId: e.target.value })}
          />
        </label>
        <div className="form-actions">
          <button type="submit" className="button button-primary">
            {t('flow.search')}
          </button>
        </div>
      </form>
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.items.length === 0 && <p className="empty">{t('flow.deliveries.empty')}</p>}
      {list.state === 'ready' && list.data.items.length > 0 && (
        <table className="table deliveries">
          <thead>
            <tr>
              <th scope="col">{t('flow.deliveries.recipient')}</th>
              <th scope="col">{t('flow.deliveries.message')}</th>
              <th scope="col">{t('flow.deliveries.status')}</th>
              <th scope="col">{t('flow.deliveries.lastResponse')}</th>
              <th scope="col">{t('flow.deliveries.created')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((d) => (
              <DeliveryRows
                key={d.id}
                client={client}
                tenantId={tenantId}
                delivery={d}
                open={open === d.id}
                onToggle={() => setOpen((current) => (current === d.id ? null : d.id))}
                onChanged={(next, message) => {
                  changed(next);
                  showLine(message);
                }}
                formatDate={formatDate}
              />
            ))}
          </tbody>
        </table>
      )}
      {list.state === 'ready' && (
        <Pager label={t('flow.deliveries.title')} pages={pages} nextCursor={list.data.nextCursor} />
      )}
    </section>
  );
}

function DeliveryRows({
  client,
  tenantId,
  delivery,
  open,
  onToggle,
  onChanged,
  formatDate,
}: {
  client: ApiClient;
  tenantId: string;
  delivery: Delivery;
  open: boolean;
  onToggle: () => void;
  onChanged: (delivery: Delivery, message: string) => void;
  formatDate: (iso: string) => string;
}) {
  const { t } = useI18n();
  const detailsId = `delivery-${delivery.id}`;
  return (
    <>
      <tr>
        <td data-label={t('flow.deliveries.recipient')}>
          <button
            type="button"
            className="link-button"
            aria-expanded={open}
            aria-controls={detailsId}
            aria-label={t('flow.deliveries.detailsLabel', { recipient: delivery.recipient })}
            onClick={onToggle}
          >
            {delivery.recipient}
          </button>
        </td>
        <td data-label={t('flow.deliveries.message')}>
          <div>{delivery.subject ?? t('flow.noSubject')}</div>
          <div className="muted small">{delivery.sender || t('flow.nullSender')}</div>
        </td>
        <td data-label={t('flow.deliveries.status')}>
          <DeliveryBadge status={delivery.status} />
          <div className="muted small">{t('flow.deliveries.attempts', { count: delivery.attempts })}</div>
        </td>
        <td data-label={t('flow.deliveries.lastResponse')}>
          <span className="small break">{delivery.lastResponse ?? '—'}</span>
        </td>
        <td data-label={t('flow.deliveries.created')}>{formatDate(delivery.createdAt)}</td>
      </tr>
      {open && (
        <tr className="details-row">
          <td colSpan={5} id={detailsId}>
            <DeliveryDetails client={client} tenantId={tenantId} deliveryId={delivery.id} onChanged={onChanged} />
          </td>
        </tr>
      )}
    </>
  );
}

function DeliveryDetails({
  client,
  tenantId,
  deliveryId,
  onChanged,
}: {
  client: ApiClient;
  tenantId: string;
  deliveryId: string;
  onChanged: (delivery: Delivery, message: string) => void;
}) {
  const { t, formatDate } = useI18n();
  const path = { params: { path: { tenantId, deliveryId } } };
  const [details, reload, replace] = useLoad(
    async () => must(await client.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}', path)),
    deliveryId,
  );
  const { busy, error, run } = useFormAction();
  const act = (action: 'retry' | 'cancel') =>
    run(async () => {
      const next = must(
        action === 'retry'
          ? await client.POST('/v1/tenants/{tenantId}/deliveries/{deliveryId}/retry', path)
          : await client.POST('/v1/tenants/{tenantId}/deliveries/{deliveryId}/cancel', path),
      );
      replace(next);
      onChanged(
        next,
        t(action === 'retry' ? 'flow.deliveries.retried' : 'flow.deliveries.cancelled', { recipient: next.recipient }),
      );
    });

  if (details.state === 'loading') return <Loading />;
  if (details.state === 'error') return <ErrorBox error={details.error} onRetry={reload} />;
  const d = details.data;
  const actionable = d.status === 'queued' || d.status === 'deferred';
  // A bounced delivery can be sent again (the API refuses while the recipient is suppressed).
  const resendable = d.status === 'bounced';
  return (
    <div className="delivery-details">
      <h2>{t('flow.deliveries.detailsOf', { recipient: d.recipient })}</h2>
      <dl className="facts">
        <dt>{t('flow.deliveries.status')}</dt>
        <dd>
          <DeliveryBadge status={d.status} />
        </dd>
        <dt>{t('flow.deliveries.kind')}</dt>
        <dd>{d.kind}</dd>
        <dt>{t('flow.deliveries.messageId')}</dt>
        <dd className="break">{d.messageId ?? '—'}</dd>
        <dt>{t('flow.deliveries.nextAttempt')}</dt>
        <dd>{d.nextAttemptAt ? formatDate(d.nextAttemptAt) : '—'}</dd>
        <dt>{t('flow.deliveries.remoteHost')}</dt>
        <dd>{d.remoteHost ?? '—'}</dd>
        {d.deliveredAt && (
          <>
            <dt>{t('flow.deliveries.deliveredAt')}</dt>
            <dd>{formatDate(d.deliveredAt)}</dd>
          </>
        )}
      </dl>
      {actionable && (
        <div className="row-actions">
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void act('retry')}>
            {t('flow.deliveries.retry')}
          </button>
          <button type="button" className="button button-danger" disabled={busy} onClick={() => void act('cancel')}>
            {t('flow.deliveries.cancel')}
          </button>
        </div>
      )}
      {resendable && (
        <div className="row-actions">
          <p className="muted small">{t('flow.deliveries.resendHint')}</p>
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void act('retry')}>
            {t('flow.deliveries.resend')}
          </button>
        </div>
      )}
      {!actionable && !resendable && <p className="muted small">{t('flow.deliveries.finished')}</p>}
      {error !== null && <ErrorBox error={error} />}
      <h3>{t('flow.deliveries.events')}</h3>
      <EventList events={d.events ?? []} />
    </div>
  );
}

export function EventList({ events }: { events: NonNullable<Delivery['events']> }) {
  const { t, formatDate } = useI18n();
  if (events.length === 0) return <p className="muted">{t('flow.deliveries.noEvents')}</p>;
  return (
    <ol className="events">
      {events.map((e, i) => (
        <li key={i}>
          <strong>{e.type}</strong> <span className="muted small">{formatDate(e.createdAt)}</span>
          {(e.remoteHost || e.remoteIp) && (
            <div className="small">
              {[e.remoteHost, e.remoteIp].filter(Boolean).join(' · ')}
              {e.durationMs !== null && ` · ${e.durationMs} ms`}
            </div>
          )}
          {e.response && <code className="break">{e.response}</code>}
        </li>
      ))}
    </ol>
  );
}
