import { useState, type FormEvent } from 'react';
import { type ApiClient, type ApiSchema } from '@mailroom/api-client';
import { useI18n } from '../../i18n';
import { must } from '../../session';
import { ErrorBox, Loading, PageTitle, useFormAction } from '../../ui';
import { DeliveryBadge, FlowTabs, JsonDetails, filled } from './common';
import { EventList } from './DeliveriesPage';

type Trace = ApiSchema<'TraceResponse'>;

/** One message end to end: where it arrived, which filter fired, and every outbound copy. */
export function TracePage({ client, tenantId }: { client: ApiClient; tenantId: string }) {
  const { t, formatDate } = useI18n();
  const [form, setForm] = useState({ messageId: '', recipient: '' });
  const [trace, setTrace] = useState<Trace | null>(null);
  const { busy, error, run } = useFormAction();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    return run(async () => {
      setTrace(null);
      setTrace(
        must(await client.GET('/v1/tenants/{tenantId}/trace', { params: { path: { tenantId }, query: filled(form) } })),
      );
    });
  };

  return (
    <section>
      <FlowTabs current="/trace" />
      <PageTitle>{t('flow.trace.title')}</PageTitle>
      <p className="muted">{t('flow.trace.hint')}</p>
      <form className="toolbar form-grid" role="search" onSubmit={(e) => void submit(e)}>
        <label className="field">
          <span>{t('flow.deliveries.messageId')}</span>
          <input value={form.messageId} onChange={(e) => setForm({ ...form, messageId: e.target.value })} />
        </label>
        <label className="field">
          <span>{t('flow.deliveries.recipient')}</span>
          <input value={form.recipient} onChange={(e) => setForm({ ...form, recipient: e.target.value })} />
        </label>
        <div className="form-actions">
          <button
            type="submit"
            className="button button-primary"
            disabled={busy || (!form.messageId.trim() && !form.recipient.trim())}
          >
            {t('flow.trace.submit')}
          </button>
        </div>
      </form>
      {busy && <Loading />}
      {error !== null && <ErrorBox error={error} />}
      {trace && trace.inbound.length === 0 && trace.outbound.length === 0 && (
        <p className="empty">{t('flow.trace.empty')}</p>
      )}
      {trace && trace.inbound.length > 0 && (
        <>
          <h2>{t('flow.trace.inbound')}</h2>
          <ul className="plain-list">
            {trace.inbound.map((m, i) => (
              <li key={i} className="card">
                <strong>{m.mailbox}</strong> · {m.folder}{' '}
                <span className="muted small">{formatDate(m.receivedAt)}</span>
                <div className="small">
                  {t('flow.trace.from', { from: m.envelopeFrom || t('flow.nullSender') })}
                  {m.remoteIp && ` · ${m.remoteIp}`}
                  {m.spamScore !== null && ` · ${t('flow.trace.spam', { score: m.spamScore })}`}
                </div>
                <JsonDetails summary={t('flow.trace.verdicts')} value={m.authResults} />
                <JsonDetails summary={t('flow.trace.filters')} value={m.filterTrace} />
              </li>
            ))}
          </ul>
        </>
      )}
      {trace && trace.outbound.length > 0 && (
        <>
          <h2>{t('flow.trace.outbound')}</h2>
          <ul className="plain-list">
            {trace.outbound.map((o) => (
              <li key={o.id} className="card">
                <strong>{o.subject ?? t('flow.noSubject')}</strong> · {o.kind}{' '}
                <span className="muted small">{formatDate(o.createdAt)}</span>
                <div className="small">{t('flow.trace.from', { from: o.envelopeFrom || t('flow.nullSender') })}</div>
                <ul className="plain-list trace-deliveries">
                  {o.deliveries.map((d) => (
                    <li key={d.id}>
                      {d.recipient} <DeliveryBadge status={d.status} />
                      <EventList events={d.events ?? []} />
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
