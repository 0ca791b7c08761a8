import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must, mustSucceed } from '../../session';
import { ErrorBox, Loading, PageTitle, useFormAction, useLoad, useStatus } from '../../ui';
import { FlowTabs, JsonDetails } from './common';

type Webhook = ApiSchema<'WebhookResponse'>;
type Event = ApiSchema<'CreateWebhookDto'>['events'][number];
const EVENTS: Exclude<Event, '*'>[] = [
  'delivery.delivered',
  'delivery.deferred',
  'delivery.bounced',
  'delivery.cancelled',
  'domain.status_changed',
];

/** Webhooks: create (secret shown once), switch on and off, delete, and their recent attempts. */
export function WebhooksPage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t } = useI18n();
  const [line, showLine] = useStatus();
  const [list, reload, replace] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/webhooks', { params: { path: { tenantId }, query: { limit: 200 } } }),
      ).items,
    tenantId,
  );
  return (
    <section>
      <FlowTabs current="/webhooks" />
      <PageTitle>{t('flow.webhooks.title')}</PageTitle>
      <CreateWebhook client={client} tenantId={tenantId} onCreated={reload} />
      {line}
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.length === 0 && <p className="empty">{t('flow.webhooks.empty')}</p>}
      {list.state === 'ready' && list.data.length > 0 && (
        <ul className="plain-list">
          {list.data.map((hook) => (
            <WebhookItem
              key={hook.id}
              client={client}
              tenantId={tenantId}
              hook={hook}
              onChanged={(next, message) => {
                replace(
                  next === null
                    ? list.data.filter((h) => h.id !== hook.id)
                    : list.data.map((h) => (h.id === next.id ? next : h)),
                );
                showLine(message);
              }}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function WebhookItem({
  client,
  tenantId,
  hook,
  onChanged,
}: {
  client: ApiClient;
  tenantId: string;
  hook: Webhook;
  onChanged: (hook: Webhook | null, message: string) => void;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const { busy, error, run } = useFormAction();
  const path = { params: { path: { tenantId, webhookId: hook.id } } };
  const toggle = () =>
    run(async () => {
      const next = must(
        await client.PATCH('/v1/tenants/{tenantId}/webhooks/{webhookId}', {
          ...path,
          body: { enabled: !hook.enabled },
        }),
      );
      onChanged(next, t('mailboxes.saved'));
    });
  const remove = () =>
    run(async () => {
      mustSucceed(await client.DELETE('/v1/tenants/{tenantId}/webhooks/{webhookId}', path));
      onChanged(null, t('flow.webhooks.deleted', { url: hook.url }));
    });
  return (
    <li className="card">
      <div className="domain-head">
        <h2 className="break">{hook.url}</h2>
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={hook.enabled}
            disabled={busy}
            aria-label={t('flow.webhooks.enabledLabel', { url: hook.url })}
            onChange={() => void toggle()}
          />
          <span aria-hidden="true">{t('mailbox.enabled')}</span>
        </label>
        <button
          type="button"
          className="button button-small"
          aria-expanded={open}
          aria-controls={`attempts-${hook.id}`}
          aria-label={t('flow.webhooks.attemptsLabel', { url: hook.url })}
          onClick={() => setOpen((o) => !o)}
        >
          {t('flow.webhooks.attempts')}
        </button>
        <button
          type="button"
          className="button button-small button-danger"
          disabled={busy}
          aria-label={t('flow.webhooks.deleteLabel', { url: hook.url })}
          onClick={() => void remove()}
        >
          {t('flow.tenants.delete')}
        </button>
      </div>
      <p className="small muted">{t('flow.webhooks.events', { events: hook.events.join(', ') })}</p>
      {error !== null && <ErrorBox error={error} />}
      {open && <Attempts client={client} tenantId={tenantId} webhookId={hook.id} />}
    </li>
  );
}

function Attempts({ client, tenantId, webhookId }: { client: ApiClient; tenantId: string; webhookId: string }) {
  const { t, formatDate } = useI18n();
  const [list, reload] = useLoad(
    async () =>
      must(
        await client.GET('/v1/tenants/{tenantId}/webhooks/{webhookId}/deliveries', {
          params: { path: { tenantId, webhookId }, query: { limit: 20 } },
        }),
      ).items,
    webhookId,
  );
  return (
    <div id={`attempts-${webhookId}`}>
      <h3>{t('flow.webhooks.recent')}</h3>
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} onRetry={reload} />}
      {list.state === 'ready' && list.data.length === 0 && <p className="muted">{t('flow.webhooks.noAttempts')}</p>}
      {list.state === 'ready' && list.data.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">{t('flow.webhooks.event')}</th>
              <th scope="col">{t('flow.deliveries.status')}</th>
              <th scope="col">{t('flow.webhooks.answer')}</th>
              <th scope="col">{t('flow.deliveries.created')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((a) => (
              <tr key={a.id}>
                <td data-label={t('flow.webhooks.event')}>
                  {a.event}
                  <JsonDetails summary={t('flow.webhooks.payload')} value={a.payload} />
                </td>
                <td data-label={t('flow.deliveries.status')}>
                  <span className={`badge badge-hook-${a.status}`}>{t(`flow.webhooks.status.${a.status}`)}</span>
                  <div className="muted small">{t('flow.deliveries.attempts', { count: a.attempts })}</div>
                </td>
                <td data-label={t('flow.webhooks.answer')}>
                  {a.lastStatusCode ?? '—'}
                  {a.lastError && <div className="small break">{a.lastError}</div>}
                </td>
                <td data-label={t('flow.deliveries.created')}>{formatDate(a.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function CreateWebhook({
  client,
  tenantId,
  onCreated,
}: {
  client: ApiClient;
  tenantId: string;
  onCreated: () => void;
}) {
  const { t } = useI18n();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<Event[]>(['delivery.bounced']);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const { busy, error, run } = useFormAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      const created = must(
        await client.POST('/v1/tenants/{tenantId}/webhooks', {
          params: { path: { tenantId } },
          body: { url: url.trim(), events },
        }),
      );
      setSecret({ url: created.url, secret: created.secret });
      setUrl('');
      onCreated();
    });
  };
  const flip = (e: Event, on: boolean) => setEvents((list) => (on ? [...list, e] : list.filter((x) => x !== e)));
  return (
    <form className="card form-grid" onSubmit={(e) => void submit(e)}>
      <h2>{t('flow.webhooks.new')}</h2>
      {secret && (
        <div className="alert alert-success">
          <p>{t('flow.webhooks.secretShown', { url: secret.url })}</p>
          <code className="secret">{secret.secret}</code>
        </div>
      )}
      <label className="field">
        <span>{t('flow.webhooks.url')}</span>
        <input type="url" required maxLength={2000} value={url} onChange={(e) => setUrl(e.target.value)} />
      </label>
      <fieldset className="checks">
        <legend>{t('flow.webhooks.eventsLegend')}</legend>
        {(['*', ...EVENTS] as Event[]).map((e) => (
          <label key={e} className="check">
            <input type="checkbox" checked={events.includes(e)} onChange={(x) => flip(e, x.target.checked)} />
            <span>{e === '*' ? t('flow.webhooks.allEvents') : e}</span>
          </label>
        ))}
      </fieldset>
      {error !== null && <ErrorBox error={error} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy || events.length === 0}>
          {t('flow.webhooks.create')}
        </button>
      </div>
    </form>
  );
}
